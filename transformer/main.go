// Command transformer maps Gigya accounts to target users with an
// expression-based mapping; run as many instances as the load needs.
package main

import (
	"os"

	"github.com/gigya-migrate/gigya-migrate/pkg/stage"
	"github.com/gigya-migrate/gigya-migrate/transformer/transform"
)

func main() {
	stage.TuneGC(os.Getenv, stage.DefaultGCPercent, stage.DefaultMemoryLimit)
	stage.Main("transformer", transform.Run)
}
