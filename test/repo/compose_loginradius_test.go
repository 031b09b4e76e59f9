package repo

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/gigya-migrate/gigya-migrate/internal/load"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/transform"
	"go.yaml.in/yaml/v3"
)

// composeConfigs are the configs of configs/compose/ that MIGRATION_CONFIG
// selects: Auth0 (the default), LoginRadius' bulk migration API, and its
// Account API.
var composeConfigs = []string{"gigya-migrate.yaml", "gigya-migrate-loginradius.yaml", "gigya-migrate-loginradius-api.yaml"}

// pipelineTarget returns what the project's pipeline migrates into: the
// target of the mapping the transformer runs, and the loader's settings.
func pipelineTarget(t *testing.T, p *types.Project) (mappingTarget string, ls load.Settings) {
	t.Helper()
	configOf := func(s types.ServiceConfig) string {
		host := mountedSource(s, env(s, "GM_CONFIG"))
		if host == env(s, "GM_CONFIG") {
			t.Fatalf("%s: GM_CONFIG %q is not a mounted file", s.Name, host)
		}
		return host
	}
	tr := service(t, p, "transformer")
	tc := transform.Default()
	if err := config.Load(configOf(tr), &tc, func(k string) string { return env(tr, k) }); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(mountedSource(tr, tc.Transformer.Mapping))
	if err != nil {
		t.Fatalf("transformer: the mapping %s is not mounted: %v", tc.Transformer.Mapping, err)
	}
	m, err := mapping.Parse(filepath.Base(tc.Transformer.Mapping), b)
	if err != nil {
		t.Fatal(err)
	}
	ld := service(t, p, "loader")
	lc := load.Default()
	if err := config.Load(configOf(ld), &lc, func(k string) string { return env(ld, k) }); err != nil {
		t.Fatal(err)
	}
	return m.Target(), lc.Loader
}

// TestComposeLoginRadius checks the LoginRadius deployments:
// loginradius.env selects the bulk migration API's config and
// MIGRATION_CONFIG the Account API's; every pipeline service mounts it as
// GM_CONFIG, with the LoginRadius mapping; the transformer maps for the
// loader's target; the loader's sink is built from the options with the env
// file's values and, in the demo, points at loginradius-sim; alone and on
// the cluster. Without them, the pipeline still goes to Auth0.
func TestComposeLoginRadius(t *testing.T) {
	root := repoRoot(t)
	dir := filepath.Join(root, "configs", "compose")
	lrEnv, clusterEnv := filepath.Join(dir, "loginradius.env"), filepath.Join(dir, "cluster.env")
	cases := []struct {
		name      string
		p         *types.Project
		conf      string
		sink      string
		target    string
		demo      bool
		nodes     int
		urlOption []string // the options that must point at the simulator in the demo
	}{
		{"auth0 (the default)", loadCompose(t, root, []string{"demo"}), "gigya-migrate.yaml", "auth0-api", "auth0", true, 1, nil},
		{"loginradius-bulk demo", loadCompose(t, root, []string{"demo"}, lrEnv), "gigya-migrate-loginradius.yaml", "loginradius-bulk", "loginradius", true, 1,
			[]string{"migration_url", "api_url"}},
		{"loginradius-api demo", loadComposeEnv(t, root, []string{"demo"}, []string{"MIGRATION_CONFIG=gigya-migrate-loginradius-api.yaml"}, lrEnv),
			"gigya-migrate-loginradius-api.yaml", "loginradius-api", "loginradius", true, 1, []string{"api_url"}},
		{"loginradius-bulk on the cluster", loadCompose(t, root, nil, clusterEnv, lrEnv), "gigya-migrate-loginradius.yaml", "loginradius-bulk", "loginradius", false, 3, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.p
			for _, name := range pipelineServices {
				s := service(t, p, name)
				if got := mountedSource(s, env(s, "GM_CONFIG")); got != filepath.Join(dir, c.conf) {
					t.Errorf("%s: GM_CONFIG is %s, want %s", name, got, filepath.Join(dir, c.conf))
				}
				checkMounts(t, root, s)
				checkConfig(t, root, s)
			}
			mt, ls := pipelineTarget(t, p)
			if mt != c.target || ls.Target != c.target {
				t.Errorf("the transformer maps for %q, the loader reads target %q; want both %q", mt, ls.Target, c.target)
			}
			if ls.Sink.Type != c.sink {
				t.Errorf("loader sink %s, want %s", ls.Sink.Type, c.sink)
			}
			if c.target == "loginradius" && !strings.Contains(strings.Join(ls.Unique, ","), "Email.Value") {
				t.Errorf("loader.unique %v: LoginRadius' login email is Email.Value", ls.Unique)
			}
			nodes := 0
			for _, n := range []string{"nats", "nats-2", "nats-3"} {
				if _, err := p.GetService(n); err == nil {
					nodes++
				}
			}
			if nodes != c.nodes {
				t.Errorf("%d NATS nodes, want %d", nodes, c.nodes)
			}
			if !c.demo {
				return
			}
			sim := service(t, p, "loginradius-sim")
			want := "http://loginradius-sim:" + strings.TrimPrefix(sim.Command[1], "0.0.0.0:")
			opts := map[string]any{}
			if err := ls.Sink.Options.Decode(&opts); err != nil {
				t.Fatal(err)
			}
			for _, k := range c.urlOption {
				if opts[k] != want {
					t.Errorf("loader.sink.options.%s %v, want loginradius-sim's %s", k, opts[k], want)
				}
			}
		})
	}
}

// TestComposeConfigsAgree: the configs of configs/compose/ differ only in
// their target (the transformer and loader sections), so that choosing
// LoginRadius changes nothing else of the deployment.
func TestComposeConfigsAgree(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "configs", "compose")
	var first map[string]any
	for _, name := range composeConfigs {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// The target decides the mapping and the sink, and so the login
		// service's mapping and tenant.
		for _, k := range []string{"transformer", "loader", "login"} {
			if m[k] == nil {
				t.Errorf("%s has no %s section", name, k)
			}
			delete(m, k)
		}
		if first == nil {
			first = m
			continue
		}
		if !reflect.DeepEqual(m, first) {
			for k := range maps.Keys(first) {
				if !reflect.DeepEqual(m[k], first[k]) {
					t.Errorf("%s: %s differs from %s's", name, k, composeConfigs[0])
				}
			}
			t.Errorf("%s differs from %s beyond transformer, loader and login", name, composeConfigs[0])
		}
	}
}
