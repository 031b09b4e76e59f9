package extract

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/internal/login"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/heartbeat"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/targets/loginradius"
)

// The login service (internal/login, docs/login-migration.md) runs in the
// extractor's binary: like an extraction, it talks to Gigya with a site's
// credentials and publishes accounts to gigya.accounts.<site>.

const loginUsage = `extractor login-service serves login-time migration: Auth0 custom database
scripts (configs/auth0-login.js, configs/auth0-get-user.js) and LoginRadius'
just-in-time flows, backed by Gigya's accounts.login. Each user it migrates is
published to gigya.accounts.<site> marked Etl-Login-Migrated. It runs until
stopped (SIGINT/SIGTERM: finishes the requests in flight). See
docs/login-migration.md.

Usage:
  extractor login-service -config FILE [flags]

Flags:
`

// LoginConfig is the configuration file as the login service reads it:
// the extractor's section for the site's credentials, the login section.
type LoginConfig struct {
	stage.Common `yaml:",inline"`
	Extractor    Settings                `yaml:"extractor"`
	Transformer  stage.UnreadTransformer `yaml:"transformer"`
	Loader       stage.UnreadLoader      `yaml:"loader"`
	Login        login.Settings          `yaml:"login"`
}

// DefaultLogin returns the login service's defaults.
func DefaultLogin() LoginConfig {
	return LoginConfig{Common: stage.DefaultCommon(), Extractor: Default().Extractor, Login: login.DefaultSettings()}
}

// Validate reports every problem with its full key path.
func (c *LoginConfig) Validate() error {
	var p config.Problems
	p.Merge("", c.Common.Validate())
	login.Validate(c.Login, &p)
	validateGigya(c.Extractor.Gigya, &p)
	if len(c.Extractor.Gigya.Sites) > 0 {
		if _, _, err := c.site(); err != nil {
			p.Addf("login.site", "%v", err)
		}
	}
	return p.Err()
}

// site is the extractor.gigya.sites entry users log in against, and its key.
func (c *LoginConfig) site() (SiteSettings, string, error) {
	sites := c.Extractor.Gigya.Sites
	for i, s := range sites {
		if s.Name == c.Login.Site || (c.Login.Site == "" && len(sites) == 1) {
			return s, fmt.Sprintf("extractor.gigya.sites[%d]", i), nil
		}
	}
	if c.Login.Site == "" {
		return SiteSettings{}, "", fmt.Errorf("is required when extractor.gigya.sites has %d sites", len(sites))
	}
	return SiteSettings{}, "", fmt.Errorf("no extractor.gigya.sites entry is named %q", c.Login.Site)
}

// LoginSummary is what the login service prints on stdout when it stops.
type LoginSummary struct {
	Stage   string `json:"stage"`
	Run     string `json:"run"`
	Site    string `json:"site"`
	Target  string `json:"target"`
	Elapsed string `json:"elapsed"`
	login.Totals
}

func runLoginService(ctx context.Context, env stage.Env) error {
	fs, cfgPath := stage.Flags("extractor login-service", loginUsage, env)
	mappingPath := fs.String("mapping", "", "mapping YAML file (overrides login.mapping; use the transformer's)")
	listen := fs.String("listen", "", "address of the login endpoints (overrides login.listen)")
	if err := stage.ParseFlags(fs, env.Args, false); err != nil {
		return err
	}
	cfg := DefaultLogin()
	_, err := stage.LoadConfig(*cfgPath, &cfg, &cfg.Common, env.Getenv, func(o *config.Origins) error {
		if *mappingPath != "" {
			cfg.Login.Mapping = *mappingPath
			o.Set("login.mapping", "-mapping")
		}
		if *listen != "" {
			cfg.Login.Listen = *listen
			o.Set("login.listen", "-listen")
		}
		return cfg.Validate()
	})
	if err != nil {
		return err
	}
	log := cfg.Telemetry.Logger(env.Stderr).With("stage", "login-service")
	m, err := loadLoginMapping(cfg.Login.Mapping)
	if err != nil {
		return stage.Usage(fmt.Errorf("login.mapping: %w", err))
	}
	site, key, _ := cfg.site()
	gm := newGigyaMetrics()
	st := cfg.Login
	tune := gigya.Config{Timeout: st.Gigya.CallTimeout, MaxRetries: st.Gigya.Retries, Logger: log.With("site", site.Name), Observe: gm.observe}
	if st.Gigya.Retries == 0 {
		tune.MaxRetries = -1 // none: the client reads 0 as its default
	}
	tune.Rate = st.Gigya.Rate
	logins, err := newGigyaClient(key, site, tune)
	if err != nil {
		return stage.Usage(err)
	}
	tune.Rate = st.Gigya.SearchRate
	searches, err := newGigyaClient(key, site, tune)
	if err != nil {
		return stage.Usage(err)
	}
	lr, err := newLoginRadius(st, log)
	if err != nil {
		return stage.Usage(err)
	}
	ln, err := login.Listen(st)
	if err != nil {
		return stage.Usage(err)
	}
	defer ln.Close()

	rt, err := stage.Start(ctx, "login-service", cfg.Common, log)
	if err != nil {
		return err
	}
	defer rt.Close()
	rt.Metrics.MustRegister(gm.calls, gm.seconds)
	run := "login-" + newRunID()
	svc, err := login.New(login.Options{
		Settings: st, Site: site.Name, Run: run, Mapping: m, Gigya: logins, GigyaSearch: searches, LoginRadius: lr,
		Publisher: rt.JS, MaxPayload: rt.NC.MaxPayload(), Log: log, Metrics: rt.Metrics,
		Ready: func() error {
			if !rt.NC.IsConnected() {
				return errors.New("not connected to NATS")
			}
			return nil
		},
	})
	if err != nil {
		return stage.Usage(err)
	}
	started := time.Now()
	rec := &loginRun{rt: rt, run: run, site: site.Name, started: started, svc: svc, log: log}
	rt.Heartbeat(ctx, "login-service", "site "+site.Name+", run "+run+", target "+svc.Target(), func() map[string]int64 {
		t := svc.Totals()
		c := map[string]int64{"published": t.Published, "duplicates": t.Duplicates, "publish_failed": t.PublishFailed}
		for k, v := range t.Outcomes {
			c[k] = v
		}
		return c
	})
	rt.Go(ctx, rec.keep)
	tls := "TLS"
	switch {
	case st.PlainHTTP:
		tls = "plain HTTP (TLS terminated in front)"
	case st.TLS.ClientCAFile != "":
		tls = "mutual TLS"
	}
	log.Info("login service listening", "addr", ln.Addr().String(), "transport", tls, "site", site.Name, "target", svc.Target(),
		"mapping", m.Name(), "mapping_version", m.Version(), "run", run, "clients", len(st.Clients))
	serveErr := svc.Serve(ctx, ln)
	rec.write("stopped")
	tot := svc.Totals()
	log.Info("login service stopped", "published", tot.Published, "outcomes", tot.Outcomes)
	stage.PrintSummary(env.Stdout, LoginSummary{Stage: "login-service", Run: run, Site: site.Name, Target: svc.Target(),
		Elapsed: time.Since(started).Round(time.Millisecond).String(), Totals: tot})
	return serveErr
}

func loadLoginMapping(path string) (*mapping.Mapping, error) {
	if path == "" {
		return mapping.Parse("configs/auth0.yaml (embedded)", configs.Auth0Mapping)
	}
	return mapping.Load(path)
}

// loginRun keeps the run record of the login service's accounts
// (run.<run>.<site>, as an extraction's), so that status balances them:
// published = migrated at login + dead-lettered + in flight.
type loginRun struct {
	rt      *stage.Runtime
	run     string
	site    string
	started time.Time
	svc     *login.Service
	log     *slog.Logger
}

// keep rewrites the record every heartbeat interval until ctx is done.
func (r *loginRun) keep(ctx context.Context) {
	t := time.NewTicker(heartbeat.Interval)
	defer t.Stop()
	for {
		r.write("running")
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *loginRun) write(status string) {
	t := r.svc.Totals()
	rec := struct {
		Summary
		Started  time.Time `json:"started"`
		Finished time.Time `json:"finished"`
	}{Summary{Stage: "login-service", Run: r.run, Site: r.site, Status: status, Elapsed: time.Since(r.started).Round(time.Second).String(),
		Totals: Totals{Read: t.Published + t.Duplicates + t.PublishFailed, Published: t.Published, Duplicates: t.Duplicates}},
		r.started.UTC(), time.Now().UTC()}
	b, _ := json.Marshal(rec)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := r.rt.Topology.State.Put(ctx, "run."+r.run+"."+r.site, b); err != nil {
		r.log.Warn("login run record not saved", "err", err)
	}
}

// newLoginRadius is the LoginRadius API of the API mode, nil without
// login.loginradius.api_key (the lookup endpoint needs none). Its calls are
// a login's: a short timeout and one retry, within login.timeout.
func newLoginRadius(s stage.LoginSettings, log *slog.Logger) (login.LoginRadius, error) {
	lr := s.LoginRadius
	if lr.APIKey == "" {
		return nil, nil
	}
	c, err := loginradius.NewClient(loginradius.Config{APIKey: lr.APIKey, APISecret: lr.APISecret, APIURL: lr.BaseURL,
		AllowHTTP: lr.AllowHTTP, Timeout: s.Gigya.CallTimeout, MaxRetries: 1, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("login.loginradius: %w", err)
	}
	return login.NewLoginRadius(c), nil
}
