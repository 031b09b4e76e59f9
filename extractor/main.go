// Command extractor reads Gigya accounts (export files, or later the
// accounts.search API) and publishes them to the GIGYA_ACCOUNTS stream.
package main

import (
	"github.com/gigya-migrate/gigya-migrate/internal/extract"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
)

func main() { stage.Main("extractor", extract.Run) }
