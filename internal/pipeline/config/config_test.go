package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

type testInner struct {
	URLs    []string      `yaml:"urls" doc:"server URLs"`
	Timeout time.Duration `yaml:"timeout"`
	Retries int           `yaml:"retries"`
}

type testConfig struct {
	Version int               `yaml:"version"`
	Name    string            `yaml:"name"`
	Inner   testInner         `yaml:"inner"`
	Free    map[string]string `yaml:"free"`
}

func defaults() testConfig {
	return testConfig{Version: 1, Name: "x", Inner: testInner{URLs: []string{"nats://a"}, Timeout: 5 * time.Second, Retries: 3}}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		env     map[string]string
		want    func(*testConfig)
		wantErr string
	}{
		{name: "empty keeps defaults", give: "", want: func(*testConfig) {}},
		{name: "overlay", give: "name: y\ninner:\n  retries: 7\n", want: func(c *testConfig) { c.Name = "y"; c.Inner.Retries = 7 }},
		{name: "duration", give: "inner: {timeout: 250ms}", want: func(c *testConfig) { c.Inner.Timeout = 250 * time.Millisecond }},
		{name: "env expansion", give: "name: ${NAME}\n", env: map[string]string{"NAME": "from-env"}, want: func(c *testConfig) { c.Name = "from-env" }},
		{name: "env default", give: "name: ${NAME:-fallback}\n", want: func(c *testConfig) { c.Name = "fallback" }},
		{name: "plain env ref fills an int", give: "inner:\n  retries: ${N}\n", env: map[string]string{"N": "9"}, want: func(c *testConfig) { c.Inner.Retries = 9 }},
		{name: "quoted env ref stays a string", give: `name: "${N}"`, env: map[string]string{"N": "9"}, want: func(c *testConfig) { c.Name = "9" }},
		{name: "missing env is an error naming it", give: "name: ${NOPE}\n", wantErr: "NOPE is not set"},
		{name: "unknown key is an error", give: "inner: {retry: 1}\n", wantErr: "field retry not found"},
		{name: "wrong type names the line", give: "inner:\n  retries: lots\n", wantErr: "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := defaults()
			err := Decode("test.yaml", []byte(tt.give), &got, env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Decode() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := defaults()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestApplyEnv(t *testing.T) {
	c := defaults()
	err := ApplyEnv(&c, env(map[string]string{
		"GM_INNER_URLS":    "nats://a:1, nats://b:2",
		"GM_INNER_TIMEOUT": "1m",
		"GM_NAME":          "n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Inner.URLs, []string{"nats://a:1", "nats://b:2"}) || c.Inner.Timeout != time.Minute || c.Name != "n" {
		t.Fatalf("env not applied: %+v", c)
	}
	err = ApplyEnv(&c, env(map[string]string{"GM_INNER_RETRIES": "many"}))
	if err == nil || !strings.Contains(err.Error(), "inner.retries (from GM_INNER_RETRIES)") {
		t.Fatalf("error must name key and variable, got %v", err)
	}
}

func TestDescribe(t *testing.T) {
	c := defaults()
	keys := Describe(&c)
	want := []Key{
		{Path: "version", Env: "GM_VERSION", Default: "1"},
		{Path: "name", Env: "GM_NAME", Default: `"x"`},
		{Path: "inner.urls", Env: "GM_INNER_URLS", Default: `["nats://a"]`, Doc: "server URLs"},
		{Path: "inner.timeout", Env: "GM_INNER_TIMEOUT", Default: "5s"},
		{Path: "inner.retries", Env: "GM_INNER_RETRIES", Default: "3"},
	}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("Describe() =\n%+v\nwant\n%+v", keys, want)
	}
}

func TestProblems(t *testing.T) {
	var p Problems
	p.Check(true, "a", "fine")
	p.Check(false, "b.c", "must be positive")
	var inner Problems
	inner.Addf("x", "bad %d", 1)
	p.Merge("outer", inner.Err())
	err := p.Err()
	if err == nil || !strings.Contains(err.Error(), "b.c: must be positive") || !strings.Contains(err.Error(), "outer.x: bad 1") {
		t.Fatalf("got %v", err)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 168 * time.Hour: "168h", 2 * time.Minute: "2m", 90 * time.Second: "1m30s",
		250 * time.Millisecond: "250ms", time.Hour + time.Second: "1h0m1s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestDescribeListOfSections(t *testing.T) {
	type site struct {
		Name string `yaml:"name" doc:"the name"`
		DC   string `yaml:"dc" default:"us1"`
	}
	type cfg struct {
		Sites []site `yaml:"sites"`
	}
	c := cfg{}
	want := []Key{
		{Path: "sites[].name", Default: `""`, Doc: "the name"},
		{Path: "sites[].dc", Default: "us1"},
	}
	if got := Describe(&c); !reflect.DeepEqual(got, want) {
		t.Fatalf("Describe() = %+v, want %+v", got, want)
	}
	if err := ApplyEnv(&c, env(map[string]string{"GM_SITES[]_NAME": "x"})); err != nil || len(c.Sites) != 0 {
		t.Fatalf("list elements must not be set from the environment: %v %+v", err, c)
	}
}
