// Command extractor reads Gigya accounts, from the accounts.search API
// (source gigya-api, which configs/compose uses) or from export files
// (source file, the built-in default), and publishes them to the
// GIGYA_ACCOUNTS stream.
package main

import (
	"github.com/gigya-migrate/gigya-migrate/internal/extract"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
)

func main() { stage.Main("extractor", extract.Run) }
