// Command transformer maps Gigya accounts to target users with an
// expression-based mapping; run as many instances as the load needs.
package main

import (
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/transform"
)

func main() { stage.Main("transformer", transform.Run) }
