package repo

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/gigya-migrate/gigya-migrate/internal/extract"
	"github.com/gigya-migrate/gigya-migrate/internal/load"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
	"github.com/gigya-migrate/gigya-migrate/internal/targets"
	"github.com/gigya-migrate/gigya-migrate/internal/targets/auth0api"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
	"github.com/gigya-migrate/gigya-migrate/internal/transform"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
)

// The deployment files are checked here, without Docker: compose.yaml is
// loaded the way `docker compose` loads it (compose-go), the Dockerfile is
// parsed, and both are held against the code (the binaries and packages
// they name, the environment variables the binaries read) so they cannot
// drift from it unnoticed.

// pipelineServices are the compose services running the three binaries.
var pipelineServices = []string{"extractor", "transformer", "loader"}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := quickstart.ModuleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// loadCompose loads compose.yaml from root with the given profiles and
// project env files (as --profile and --env-file do), ignoring the
// caller's environment so that the test sees the documented defaults.
func loadCompose(t *testing.T, root string, profiles []string, envFiles ...string) *types.Project {
	t.Helper()
	return loadComposeEnv(t, root, profiles, nil, envFiles...)
}

// loadComposeEnv is loadCompose with variables set in the environment
// (KEY=value), which win over the env files as they do for docker compose.
func loadComposeEnv(t *testing.T, root string, profiles, environ []string, envFiles ...string) *types.Project {
	t.Helper()
	opts := []cli.ProjectOptionsFn{cli.WithWorkingDirectory(root), cli.WithInterpolation(true), cli.WithEnv(environ)}
	if len(envFiles) > 0 {
		opts = append(opts, cli.WithEnvFiles(envFiles...), cli.WithDotEnv)
	}
	if profiles == nil {
		opts = append(opts, cli.WithDefaultProfiles()) // COMPOSE_PROFILES from the env file
	} else {
		opts = append(opts, cli.WithProfiles(profiles))
	}
	po, err := cli.NewProjectOptions([]string{filepath.Join(root, "compose.yaml")}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := po.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("compose.yaml: %v (enabled: %v)", err, p.ServiceNames())
	}
	return s
}

func env(s types.ServiceConfig, key string) string {
	if v := s.Environment[key]; v != nil {
		return *v
	}
	return ""
}

// TestComposeDemo checks the default deployment with the demo profile:
// what `docker compose --profile demo up` runs.
func TestComposeDemo(t *testing.T) {
	root := repoRoot(t)
	df := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	p := loadCompose(t, root, []string{"demo"})

	if got, want := p.ServiceNames(), []string{"auth0-sim", "extractor", "gigya-sim", "loader", "loginradius-sim", "nats", "transformer"}; !slices.Equal(sorted(got), want) {
		t.Fatalf("services with the demo profile: %v, want %v", got, want)
	}
	for _, name := range []string{"nats-2", "nats-3"} {
		if _, err := p.GetDisabledService(name); err != nil {
			t.Fatalf("%s must exist, in the cluster profile only: %v", name, err)
		}
	}

	nats := service(t, p, "nats")
	checkNATSService(t, root, nats, "single.conf")

	for _, name := range pipelineServices {
		s := service(t, p, name)
		if len(s.Profiles) != 0 {
			t.Errorf("%s: runs in every profile, has %v", name, s.Profiles)
		}
		if s.Build == nil || s.Build.Target != "runtime" {
			t.Errorf("%s: build target %+v, want runtime", name, s.Build)
		}
		bin := "/usr/local/bin/" + name
		if !slices.Equal(s.Entrypoint, []string{bin}) {
			t.Errorf("%s: entrypoint %v, want [%s]", name, s.Entrypoint, bin)
		}
		if !df.stage("runtime").has(bin) {
			t.Errorf("%s: the runtime image has no %s", name, bin)
		}
		hc := s.HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) < 3 || hc.Test[0] != "CMD" || !df.stage("runtime").has(hc.Test[1]) || hc.Test[2] != "healthz" {
			t.Errorf("%s: healthcheck %+v, want [CMD <binary> healthz]", name, hc)
		}
		if d, ok := s.DependsOn["nats"]; !ok || d.Condition != types.ServiceConditionHealthy {
			t.Errorf("%s: must wait for a healthy nats: %+v", name, s.DependsOn)
		}
		if env(s, "NATS_URL") != "nats://nats:4222" || env(s, "GM_STREAMS_REPLICAS") != "1" {
			t.Errorf("%s: NATS_URL %q, replicas %q", name, env(s, "NATS_URL"), env(s, "GM_STREAMS_REPLICAS"))
		}
		// The demo secrets come from the env file, at run time.
		if env(s, "GIGYA_SECRET") != gigyasim.DefaultSecret || env(s, "GIGYA_API_KEY") != gigyasim.DefaultAPIKey {
			t.Errorf("%s: the demo env file does not hold the simulator's credentials", name)
		}
		checkMounts(t, root, s)
		checkConfig(t, root, s)
	}
	if tr := service(t, p, "transformer"); tr.Deploy == nil || tr.Deploy.Replicas == nil || *tr.Deploy.Replicas < 2 {
		t.Errorf("transformer: deploy.replicas %+v, want several", tr.Deploy)
	}
	if ex := service(t, p, "extractor"); ex.Restart != "no" {
		t.Errorf("extractor: restart %q: it exits when done and must not extract again", ex.Restart)
	}
	if d := service(t, p, "extractor").DependsOn["gigya-sim"]; d.Required {
		t.Error("extractor: the dependency on gigya-sim must be optional (required: false) outside the demo")
	}
	for _, sim := range []string{"auth0-sim", "loginradius-sim"} {
		if d, ok := service(t, p, "loader").DependsOn[sim]; !ok || d.Required {
			t.Errorf("loader: must wait for %s in the demo, optionally (required: false) outside it: %+v", sim, d)
		}
	}

	for name, flag := range map[string]string{"gigya-sim": "-listen", "auth0-sim": "-addr", "loginradius-sim": "-addr"} {
		s := service(t, p, name)
		if !slices.Equal(s.Profiles, []string{"demo"}) {
			t.Errorf("%s: profiles %v, want [demo]", name, s.Profiles)
		}
		if s.Build == nil || s.Build.Target != "demo" || len(s.Entrypoint) != 1 || !df.stage("demo").has(s.Entrypoint[0]) {
			t.Errorf("%s: build %+v entrypoint %v: not a binary of the demo image", name, s.Build, s.Entrypoint)
		}
		if len(s.Command) < 2 || s.Command[0] != flag || !strings.HasPrefix(s.Command[1], "0.0.0.0:") {
			t.Errorf("%s: command %v must listen on every interface", name, s.Command)
		}
	}
	// The demo env file points the binaries at the simulators' ports.
	ex := service(t, p, "extractor")
	if u := env(ex, "GIGYA_BASE_URL"); u != "http://gigya-sim:"+strings.TrimPrefix(service(t, p, "gigya-sim").Command[1], "0.0.0.0:") {
		t.Errorf("GIGYA_BASE_URL %q does not match gigya-sim's listen address", u)
	}
	if u := env(service(t, p, "loader"), "AUTH0_BASE_URL"); u != "http://auth0-sim:"+strings.TrimPrefix(service(t, p, "auth0-sim").Command[1], "0.0.0.0:") {
		t.Errorf("AUTH0_BASE_URL %q does not match auth0-sim's listen address", u)
	}
	lrURL := "http://loginradius-sim:" + strings.TrimPrefix(service(t, p, "loginradius-sim").Command[1], "0.0.0.0:")
	for _, k := range []string{"LR_MIGRATION_URL", "LR_API_URL"} {
		if u := env(service(t, p, "loader"), k); u != lrURL {
			t.Errorf("%s %q does not match loginradius-sim's listen address %s", k, u, lrURL)
		}
	}
	if l := service(t, p, "loader"); env(l, "LR_API_KEY") != lrsim.DefaultAPIKey || env(l, "LR_API_SECRET") != lrsim.DefaultAPISecret {
		t.Error("loader: the demo env file does not hold the LoginRadius simulator's credentials")
	}

	// Without the demo profile the simulators are off and the pipeline
	// still loads (an operator's env file replaces the demo's).
	prod := loadCompose(t, root, []string{})
	if got := sorted(prod.ServiceNames()); !slices.Equal(got, []string{"extractor", "loader", "nats", "transformer"}) {
		t.Fatalf("services without a profile: %v", got)
	}
}

// TestComposeCluster checks the three-node deployment of
// `docker compose --env-file configs/compose/cluster.env up`.
func TestComposeCluster(t *testing.T) {
	root := repoRoot(t)
	p := loadCompose(t, root, nil, filepath.Join(root, "configs", "compose", "cluster.env"))
	nodes := []string{"nats", "nats-2", "nats-3"}
	conf, err := os.ReadFile(filepath.Join(root, "configs", "nats", "cluster.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var seeds []string
	names := map[string]bool{}
	for _, n := range nodes {
		s := service(t, p, n)
		checkNATSService(t, root, s, "cluster.conf")
		name := env(s, "NATS_SERVER_NAME")
		if name == "" || names[name] {
			t.Errorf("%s: server name %q missing or not unique", n, name)
		}
		names[name] = true
		if !strings.Contains(string(conf), "nats-route://"+n+":6222") {
			t.Errorf("cluster.conf has no route to %s", n)
		}
		seeds = append(seeds, "nats://"+n+":4222")
	}
	// Every node has its own volume: a shared store would be one node.
	vols := map[string]bool{}
	for _, n := range nodes {
		for _, v := range service(t, p, n).Volumes {
			if v.Target == "/data" {
				if vols[v.Source] {
					t.Errorf("%s shares the store volume %s", n, v.Source)
				}
				vols[v.Source] = true
			}
		}
	}
	if len(vols) != 3 {
		t.Errorf("store volumes %v, want one per node", vols)
	}
	for _, name := range pipelineServices {
		s := service(t, p, name)
		if got := env(s, "NATS_URL"); got != strings.Join(seeds, ",") {
			t.Errorf("%s: NATS_URL %q, want every seed %q", name, got, strings.Join(seeds, ","))
		}
		if env(s, "GM_STREAMS_REPLICAS") != "3" {
			t.Errorf("%s: GM_STREAMS_REPLICAS %q, want 3", name, env(s, "GM_STREAMS_REPLICAS"))
		}
		checkConfig(t, root, s)
	}
}

// checkNATSService checks a NATS service: its config file exists and is
// the expected one, it has a JetStream health check and a store volume,
// and its image is the server version the module is tested with.
func checkNATSService(t *testing.T, root string, s types.ServiceConfig, wantConf string) {
	t.Helper()
	if len(s.Command) != 2 || s.Command[0] != "-c" || s.Command[1] != "/etc/nats/"+wantConf {
		t.Errorf("%s: command %v, want -c /etc/nats/%s", s.Name, s.Command, wantConf)
	}
	if _, err := os.Stat(filepath.Join(root, "configs", "nats", wantConf)); err != nil {
		t.Errorf("%s: %v", s.Name, err)
	}
	hc := s.HealthCheck
	if hc == nil || hc.Disable || !strings.HasSuffix(strings.Join(hc.Test, " "), ":8222/healthz") {
		t.Errorf("%s: healthcheck %+v must ask the JetStream health endpoint", s.Name, hc)
	}
	hasStore := false
	for _, v := range s.Volumes {
		hasStore = hasStore || (v.Target == "/data" && v.Type == types.VolumeTypeVolume)
	}
	if !hasStore {
		t.Errorf("%s: no named volume at /data for the JetStream store", s.Name)
	}
	tag := s.Image[strings.LastIndex(s.Image, ":")+1:]
	want := natsServerMinor(t, root)
	if !strings.HasPrefix(tag, want+"-") && tag != want {
		t.Errorf("%s: image %s, want nats %s (the nats-server version in go.mod)", s.Name, s.Image, want)
	}
}

// natsServerMinor is "2.15" for nats-server v2.15.2 in go.mod.
func natsServerMinor(t *testing.T, root string) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/nats-io/nats-server/v2")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), ".", 3)
	return parts[0] + "." + parts[1]
}

// checkMounts checks that every file a service mounts exists, read-only.
func checkMounts(t *testing.T, root string, s types.ServiceConfig) {
	t.Helper()
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		if !v.ReadOnly {
			t.Errorf("%s: %s is mounted writable", s.Name, v.Source)
		}
		if !strings.HasPrefix(v.Source, root) {
			t.Errorf("%s: mounts %s from outside the repository", s.Name, v.Source)
		}
		if _, err := os.Stat(v.Source); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
	}
}

// checkConfig loads the config file the service points GM_CONFIG at, with
// the service's environment, into the binary's config and validates it, so
// every key and every ${VAR} of the file is one the binary knows. Every
// GM_ variable of the environment must name a config key.
func checkConfig(t *testing.T, root string, s types.ServiceConfig) {
	t.Helper()
	cfgPath := env(s, "GM_CONFIG")
	var host string
	for _, v := range s.Volumes {
		if v.Target == cfgPath {
			host = v.Source
		}
	}
	if host == "" {
		t.Fatalf("%s: GM_CONFIG %q is not a mounted file", s.Name, cfgPath)
	}
	getenv := func(k string) string { return env(s, k) }
	var keys []config.Key
	var err error
	switch s.Name {
	case "extractor":
		c := extract.Default()
		if err = config.Load(host, &c, getenv); err == nil {
			c.NATS.ApplyNATSURL(getenv)
			err = c.Validate(extract.Sources())
		}
		keys = config.Describe(&c)
	case "transformer":
		c := transform.Default()
		if err = config.Load(host, &c, getenv); err == nil {
			c.NATS.ApplyNATSURL(getenv)
			// The mapping is mounted: check the mounted file instead.
			c.Transformer.Mapping = mountedSource(s, c.Transformer.Mapping)
			err = c.Validate()
		}
		keys = config.Describe(&c)
	case "loader":
		c := load.Default()
		if err = config.Load(host, &c, getenv); err == nil {
			c.NATS.ApplyNATSURL(getenv)
			err = c.Validate(targets.Builtin())
		}
		if err == nil {
			err = checkSink(t, s, c.Loader)
		}
		keys = config.Describe(&c)
	}
	if err != nil {
		t.Errorf("%s: %s with the service's environment: %v", s.Name, host, err)
	}
	known := map[string]bool{"NATS_URL": true, "GM_CONFIG": true}
	for _, k := range keys {
		known[config.EnvName(k.Path)] = true
	}
	for k := range s.Environment {
		if strings.HasPrefix(k, config.EnvPrefix) && !known[k] {
			t.Errorf("%s: environment %s names no config key of the %s", s.Name, k, s.Name)
		}
	}
}

// checkSink decodes the loader's sink options strictly, as the loader
// does, and checks that the secret comes from the env file. The
// LoginRadius sinks are built too, which validates every option (URLs,
// allow_http) without a network call; auth0-api resolves its connection
// over the network when built, so its options are only decoded.
func checkSink(t *testing.T, s types.ServiceConfig, ls load.Settings) error {
	t.Helper()
	decode := func(v any) error { return config.DecodeNode("loader.sink.options", &ls.Sink.Options, v) }
	switch ls.Sink.Type {
	case "auth0-api":
		var o auth0api.Options
		if err := decode(&o); err != nil {
			return err
		}
		if o.ClientSecret != env(s, "AUTH0_CLIENT_SECRET") || o.ClientSecret == "" {
			t.Errorf("loader: client_secret not taken from AUTH0_CLIENT_SECRET")
		}
	case "loginradius-bulk", "loginradius-api":
		if _, err := targets.Builtin()[ls.Sink.Type].New(context.Background(), sink.Params{Name: ls.Sink.Type, Target: ls.Target, Decode: decode}); err != nil {
			return err
		}
		opts := map[string]any{}
		if err := ls.Sink.Options.Decode(&opts); err != nil {
			return err
		}
		if secret, _ := opts["api_secret"].(string); secret != env(s, "LR_API_SECRET") || secret == "" || opts["api_key"] != env(s, "LR_API_KEY") {
			t.Errorf("loader: api_key and api_secret not taken from LR_API_KEY and LR_API_SECRET")
		}
	default:
		t.Errorf("loader: sink %s: compose.yaml loads through auth0-api or a LoginRadius sink", ls.Sink.Type)
	}
	return nil
}

// mountedSource maps a path inside the container to the mounted host file.
func mountedSource(s types.ServiceConfig, path string) string {
	for _, v := range s.Volumes {
		if v.Target == path {
			return v.Source
		}
	}
	return path
}

// TestComposeEnvFiles checks the env files: every variable they set is
// one compose.yaml interpolates, a GM_ config override, NATS_URL, or one
// that configs/compose/gigya-migrate.yaml expands; and the operator's
// template leaves every secret empty.
func TestComposeEnvFiles(t *testing.T) {
	root := repoRoot(t)
	dir := filepath.Join(root, "configs", "compose")
	srcs := [][]byte{}
	for _, name := range composeConfigs {
		cfg, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, cfg)
	}
	compose, err := os.ReadFile(filepath.Join(root, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{"NATS_URL": true, "COMPOSE_PROFILES": true}
	ref := regexp.MustCompile(`\$\{([A-Z0-9_]+)`)
	for _, src := range append(srcs, compose) {
		for _, m := range ref.FindAllSubmatch(src, -1) {
			used[string(m[1])] = true
		}
	}
	for _, k := range config.Describe(new(transform.Config)) {
		used[config.EnvName(k.Path)] = true
	}
	for _, k := range config.Describe(new(extract.Config)) {
		used[config.EnvName(k.Path)] = true
	}
	for _, k := range config.Describe(new(load.Config)) {
		used[config.EnvName(k.Path)] = true
	}
	secret := regexp.MustCompile(`SECRET|PASSWORD|TOKEN|_KEY$`)
	for _, name := range []string{"demo.env", "cluster.env", "loginradius.env", "migration.env.example"} {
		for k, v := range readEnvFile(t, filepath.Join(dir, name)) {
			if !used[k] {
				t.Errorf("%s sets %s, which nothing reads", name, k)
			}
			if name == "migration.env.example" && secret.MatchString(k) && v != "" {
				t.Errorf("%s: the template must not carry a value for %s", name, k)
			}
		}
	}
	// No secret is written into compose.yaml itself.
	lit := regexp.MustCompile(`(?m)^\s*([A-Z0-9_]*(SECRET|PASSWORD|TOKEN)[A-Z0-9_]*)\s*:\s*([^$\s].*)$`)
	if m := lit.FindSubmatch(compose); m != nil {
		t.Errorf("compose.yaml sets %s to a literal value", m[1])
	}
}

// readEnvFile reads KEY=VALUE lines, commented ones included (an example
// names what may be set).
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "# "))
		k, v, ok := strings.Cut(line, "=")
		if !ok || !regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`).MatchString(k) {
			continue
		}
		out[k] = v
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestComposeLoginService checks the login service of `docker compose
// --profile login up`: the extractor's image running login-service, its
// health check, its port, the TLS files as compose secrets at the paths the
// login section names, and a configuration the service accepts.
func TestComposeLoginService(t *testing.T) {
	root := repoRoot(t)
	df := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	p := loadCompose(t, root, []string{"login"})
	s := service(t, p, "login-service")
	if !slices.Equal(s.Profiles, []string{"login"}) {
		t.Errorf("login-service: profiles %v, want [login]: it runs only when asked for", s.Profiles)
	}
	if !slices.Equal(s.Entrypoint, []string{"/usr/local/bin/extractor", "login-service"}) || !df.stage("runtime").has(s.Entrypoint[0]) {
		t.Errorf("login-service: entrypoint %v", s.Entrypoint)
	}
	if hc := s.HealthCheck; hc == nil || len(hc.Test) < 3 || hc.Test[1] != "/usr/local/bin/extractor" || hc.Test[2] != "healthz" {
		t.Errorf("login-service: healthcheck %+v", hc)
	}
	if len(s.Ports) != 1 || s.Ports[0].Target != 8443 {
		t.Errorf("login-service: ports %+v, want the login endpoints' 8443", s.Ports)
	}
	if d, ok := s.DependsOn["nats"]; !ok || d.Condition != types.ServiceConditionHealthy {
		t.Errorf("login-service: must wait for a healthy nats: %+v", s.DependsOn)
	}
	var secrets []string
	for _, sec := range s.Secrets {
		secrets = append(secrets, "/run/secrets/"+sec.Source)
	}
	checkMounts(t, root, s)
	// The configuration, with the service's environment and a client
	// secret as an operator's env file would set it.
	getenv := func(k string) string {
		if k == "LOGIN_AUTH0_SECRET" {
			return "an-operator-chosen-secret"
		}
		return env(s, k)
	}
	c := extract.DefaultLogin()
	host := mountedSource(s, env(s, "GM_CONFIG"))
	if err := config.Load(host, &c, getenv); err != nil {
		t.Fatal(err)
	}
	c.NATS.ApplyNATSURL(getenv)
	if err := c.Validate(); err != nil {
		t.Errorf("login-service: %s with the service's environment: %v", host, err)
	}
	if !slices.Contains(secrets, c.Login.TLS.CertFile) || !slices.Contains(secrets, c.Login.TLS.KeyFile) {
		t.Errorf("login-service: login.tls files %q, %q are not its secrets %v", c.Login.TLS.CertFile, c.Login.TLS.KeyFile, secrets)
	}
	tr := transform.Default()
	if err := config.Load(host, &tr, getenv); err != nil {
		t.Fatal(err)
	}
	if c.Login.Mapping != tr.Transformer.Mapping || mountedSource(s, c.Login.Mapping) == c.Login.Mapping {
		t.Errorf("login-service: login.mapping %q is not the transformer's mounted mapping", c.Login.Mapping)
	}
	if c.Login.Listen != ":8443" {
		t.Errorf("login-service: login.listen %q", c.Login.Listen)
	}
}
