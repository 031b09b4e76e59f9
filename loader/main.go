// Command loader writes mapped users to a target (Auth0 through its
// Management API or import files, JSON lines) through a pluggable sink. It is
// built from package pkg/loader exactly as a custom loader would be.
package main

import "github.com/gigya-migrate/gigya-migrate/pkg/loader"

func main() { loader.Main(loader.Builtin()) }
