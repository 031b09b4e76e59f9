package mapping_test

import (
	"fmt"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/segmentio/encoding/json"
)

func Example() {
	m, err := mapping.Parse("example.yaml", []byte(`
version: 1
target: auth0
fields:
  user_id: UID
  email: lower(trim(profile.email ?? loginIDs.emails[0] ?? ""))
  app_metadata.city: profile.address.city   # nil-safe: omitted when absent
  app_metadata.provider: identities[1].provider
filters:
  - name: lite_account
    when: hasLiteAccount == true && hasFullAccount != true
required: [email]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	e := m.NewEvaluator() // one per goroutine
	for _, account := range []string{
		`{"UID":"u1","loginIDs":{"emails":[" Jane@Example.com"]},"identities":[{"provider":"site"},{"provider":"google"}]}`,
		`{"UID":"u2","hasLiteAccount":true}`,
		`{"UID":"u3"}`,
	} {
		out, skip, err := e.ApplyJSON([]byte(account))
		switch {
		case err != nil:
			fmt.Println("error:", err)
		case skip != "":
			fmt.Println("skipped:", skip)
		default:
			b, _ := json.Marshal(out)
			fmt.Println(string(b))
		}
	}
	// Output:
	// {"app_metadata":{"provider":"google"},"email":"jane@example.com","user_id":"u1"}
	// skipped: lite_account
	// error: field "email" ("lower(trim(profile.email ?? loginIDs.emails[0] ?? \"\"))"): required field missing or empty
}
