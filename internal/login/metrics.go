package login

import "github.com/prometheus/client_golang/prometheus"

// metrics are the service's Prometheus metrics. Labels carry the endpoint,
// the caller's configured name and the outcome: never an identifier, a
// password or a profile value.
type metrics struct {
	requests  *prometheus.CounterVec
	seconds   *prometheus.HistogramVec
	gigya     *prometheus.HistogramVec
	added     *prometheus.HistogramVec
	published *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	buckets := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gm_login_requests_total",
			Help: "Requests to the login service by endpoint, client and outcome (migrated, found, wrong_credentials, unknown_user, not_found, account_locked, account_disabled, pending, captcha_required, rate_limited, unavailable, mapping_failed, unauthorized, bad_request, ...).",
		}, []string{"endpoint", "client", "outcome"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gm_login_request_seconds",
			Help:    "Duration of a request to the login service, by endpoint.",
			Buckets: buckets,
		}, []string{"endpoint"}),
		gigya: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gm_login_gigya_seconds",
			Help:    "Time a request spent in Gigya calls (accounts.login, accounts.search), by endpoint.",
			Buckets: buckets,
		}, []string{"endpoint"}),
		added: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gm_login_added_seconds",
			Help:    "Latency the login service adds to a request over its Gigya calls (mapping, publishing, LoginRadius calls), by endpoint.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}, []string{"endpoint"}),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gm_login_published_total",
			Help: "Accounts of users migrated at login published to GIGYA_ACCOUNTS, by result (published, duplicate, failed).",
		}, []string{"result"}),
	}
	reg.MustRegister(m.requests, m.seconds, m.gigya, m.added, m.published)
	return m
}
