// Package configs embeds the example mapping so the binaries run on
// defaults from any directory; the YAML files beside it are the examples
// users copy.
package configs

import _ "embed"

// Auth0Mapping is configs/auth0.yaml, the default mapping of the transformer.
//
//go:embed auth0.yaml
var Auth0Mapping []byte
