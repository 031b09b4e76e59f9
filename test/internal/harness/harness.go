// Package harness is what the end-to-end suites under test/ share: the
// binaries built once per test binary, a pipeline of them as processes
// against a JetStream server, generated input with the outcome it must
// have, and the checks of that outcome. It is test code kept out of the
// product packages; nothing outside test/ imports it.
package harness

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
)

var binaries = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "gigya-migrate-e2e-bin-")
	if err != nil {
		return "", err
	}
	root, err := quickstart.ModuleRoot(context.Background())
	if err != nil {
		return "", err
	}
	return dir, quickstart.Build(context.Background(), root, dir)
})

// Binaries returns the directory of the three commands, built on the first
// call only: every test of a test binary runs the same build, and building
// takes longer than most tests.
func Binaries() (string, error) { return binaries() }

// BinDir is Binaries for a test, which fails if the build did.
func BinDir(t *testing.T) string {
	t.Helper()
	dir, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// LastBytes returns the end of b, at most n bytes: the tail of a process
// log is where its failure is, and the whole log would bury it.
func LastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
