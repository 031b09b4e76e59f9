// Package cluster holds the test that runs the pipeline against a
// three-node JetStream cluster and kills nodes mid-run; it has no code of
// its own.
package cluster
