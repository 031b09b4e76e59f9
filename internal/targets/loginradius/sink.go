package loginradius

import (
	"net/url"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/prometheus/client_golang/prometheus"
)

// What the two LoginRadius sinks (loginradius-bulk, loginradius-api) share:
// the checks of their common options, how their options become a Client,
// and the counter of the profiles LoginRadius answered for.

// CheckCredentials reports missing credentials under the sinks' option
// names.
func CheckCredentials(p *config.Problems, apiKey, apiSecret string) {
	p.Check(apiKey != "", "api_key", "is required (the tenant's API key, from the LoginRadius Admin Console)")
	p.Check(apiSecret != "", "api_secret", "is required (the tenant's API secret; use ${VAR})")
}

// CheckURL reports a host option (key) that is not an http(s) URL, or that
// is plain http:// without allow_http; optionsKey is where the loader's
// configuration holds the options. Empty is the default host, and fine.
func CheckURL(p *config.Problems, optionsKey, key, raw string, allowHTTP bool) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http":
		p.Addf(key, "must be an https:// URL")
	case u.Scheme == "http" && !allowHTTP:
		p.Addf(key, "is plain http://, and the API secret and every user would cross the network in clear: use https://, or set %s.allow_http: true only for a local simulator", optionsKey)
	}
}

// SinkClient builds a sink's Client from cfg as its options give it: a
// MaxRetries of 0 means no retries (the Client's 0 is its default) and a
// Timeout of 0 the default. The Client records its unanswered requests in
// the returned InFlight, which a sink settles before it writes an update.
func SinkClient(cfg Config) (*Client, *InFlight, error) {
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = -1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	cfg.InFlight = NewInFlight(cfg.Timeout, cfg.Logger)
	c, err := NewClient(cfg)
	if err != nil {
		return nil, nil, err
	}
	return c, cfg.InFlight, nil
}

// NewProfilesCounter is gm_loginradius_profiles_total, which both sinks
// count into.
func NewProfilesCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gm_loginradius_profiles_total",
		Help: "Profiles LoginRadius answered for, by result (inserted, updated, failed; the loginradius-api sink: created, updated, failed).",
	}, []string{"result"})
}
