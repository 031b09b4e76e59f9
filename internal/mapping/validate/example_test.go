package validate_test

import (
	"errors"
	"fmt"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

func Example() {
	factory, ok := validate.Builtin()["auth0"] // the mapping's target:
	if !ok {
		return
	}
	opts, err := validate.ParseRepairs([]string{"sanitize_metadata_keys"}) // its repair:
	if err != nil {
		fmt.Println(err)
		return
	}
	v := factory(opts) // once, shared by all workers

	user := map[string]any{
		"user_id":       "auth0|9b1f0c7e",
		"email":         "jane.doe@example.com",
		"given_name":    "Jane",
		"app_metadata":  map[string]any{"lastLogin": "2024-02-01"},
		"user_metadata": map[string]any{"prefs.theme": "dark"},
	}
	res := v.Validate(user)
	for _, r := range res.Repaired {
		fmt.Println("repaired:", r.Path, r.Rule)
	}
	if err := res.Err(); err != nil {
		kind, code := fault.Classify(err)
		fmt.Println(kind, code)
		var ve *validate.ViolationError
		if errors.As(err, &ve) {
			for _, x := range ve.Violations {
				fmt.Println(x.Path, x.Rule)
			}
		}
	}
	fmt.Println(user["user_metadata"])
	// Output:
	// repaired: user_metadata["prefs.theme"] metadata_key_chars
	// permanent schema_violation
	// app_metadata.lastLogin reserved_app_metadata_key
	// user_id user_id_prefix
	// map[prefs_theme:dark]
}
