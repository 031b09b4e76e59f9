package login

import (
	"testing"
)

// BenchmarkAuth0Login is one login through the handler, over loopback
// HTTP, against the in-process Gigya simulator and JetStream server: what a
// profile of the service's own work starts from (test/bench measures the
// binary).
func BenchmarkAuth0Login(b *testing.B) {
	f := newFixture(b, fixtureOptions{settings: func(s *Settings) {
		s.Rate.PerClient, s.Rate.ClientBurst = 1e9, 1<<30
		s.Rate.PerIdentifier, s.Rate.IdentifierBurst = 1e9, 1<<30
	}})
	us := f.users(b, 50)
	b.ResetTimer()
	for i := range b.N {
		u := us[i%len(us)]
		if status, body, _ := f.post(b, "/auth0/login", testSecret, credentials{Identifier: u.email, Password: u.password}); status != 200 {
			b.Fatalf("%d %v", status, body)
		}
	}
}
