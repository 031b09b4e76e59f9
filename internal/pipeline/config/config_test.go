package config

import (
	"os"
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
		{name: "unknown key is an error", give: "inner: {retires: 1}\n", wantErr: "test.yaml:1: inner.retires: unknown key; did you mean inner.retries?"},
		{name: "wrong type names the line", give: "inner:\n  retries: lots\n", wantErr: `test.yaml:2: inner.retries: want a whole number, got "lots"`},
		{name: "bare zero duration", give: "inner: {timeout: 0}", want: func(c *testConfig) { c.Inner.Timeout = 0 }},
		{name: "null keeps a scalar's default", give: "name:\ninner:\n  retries:\n", want: func(*testConfig) {}},
		{name: "null empties a list", give: "inner:\n  urls:\n", want: func(c *testConfig) { c.Inner.URLs = nil }},
		{name: "map", give: "free: {a: b}", want: func(c *testConfig) { c.Free = map[string]string{"a": "b"} }},
		{name: "anchors and merge keys", give: "x: &d {retries: 4}\ninner:\n  <<: *d\n  timeout: 1s\n", wantErr: "test.yaml:1: x: unknown key"},
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

// TestDecodeErrorsNameTheKey: every problem of a file names the file, the
// line to fix and the key's dotted path, says what to write, and never
// shows the Go types the file is decoded into.
func TestDecodeErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name, give string
		env        map[string]string
		want       []string
	}{
		{"unknown key", "inner:\n  url: x\n", nil, []string{"c.yaml:2: inner.url: unknown key; did you mean inner.urls?"}},
		{"unknown key far from any", "inner:\n  colour: x\n", nil, []string{"c.yaml:2: inner.colour: unknown key (known: urls, timeout, retries)"}},
		{"unknown section", "inne:\n  urls: [x]\n", nil, []string{"c.yaml:1: inne: unknown key; did you mean inner?"}},
		{"wrong type", "version: 1\ninner:\n  retries: lots\n", nil, []string{`c.yaml:3: inner.retries: want a whole number, got "lots"`}},
		{"duration without a unit", "inner:\n  timeout: 30\n", nil, []string{"c.yaml:2: inner.timeout: 30 has no unit: write a duration such as 30s or 2m"}},
		{"duration in words", "inner:\n  timeout: 5 minutes\n", nil, []string{`c.yaml:2: inner.timeout: want a duration such as 30s, 2m or 1h30m, got "5 minutes"`}},
		{"list for a scalar", "name: [a, b]\n", nil, []string{"c.yaml:1: name: want a string, got a list"}},
		{"scalar for a list", "inner:\n  urls: nats://a\n", nil, []string{`c.yaml:2: inner.urls: want a list of strings, got "nats://a" (for one element, write [nats://a])`}},
		{"scalar for a section", "inner: 3\n", nil, []string{"c.yaml:1: inner: want a section of keys (urls, timeout, retries), got 3"}},
		{"list element", "inner:\n  urls: [a, [b]]\n", nil, []string{"c.yaml:2: inner.urls[1]: want a string, got a list"}},
		{"key set twice", "name: a\nname: b\n", nil, []string{"c.yaml:2: name: set twice (first on line 1)"}},
		{"every problem at once", "inner:\n  retries: x\n  timeout: 1\nnope: 1\n", nil, []string{
			"c.yaml:2: inner.retries:", "c.yaml:3: inner.timeout:", "c.yaml:4: nope: unknown key"}},
		{"unset variable", "inner:\n  urls: [a, '${NOPE}']\n", nil, []string{"c.yaml:2: inner.urls[1]: environment variable NOPE is not set"}},
		{"variable of the wrong type", "inner:\n  retries: ${N}\n", map[string]string{"N": "many"}, []string{`c.yaml:2: inner.retries: want a whole number, got "many"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaults()
			err := Decode("c.yaml", []byte(tt.give), &c, env(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nwant it to contain\n%s", err, w)
				}
			}
			noGoNames(t, err)
		})
	}
}

func noGoNames(t *testing.T, err error) {
	t.Helper()
	for _, bad := range []string{"config.", "struct", "yaml:\"", "!!", "time.Duration", "int64", "unmarshal", "reflect"} {
		if strings.Contains(err.Error(), bad) {
			t.Errorf("error shows Go's names (%q):\n%v", bad, err)
		}
	}
}

// TestSyntaxErrorLine: a YAML syntax error points at the line to fix (yaml.v3
// names the block the parser was in, 0-based) and at the key before it.
func TestSyntaxErrorLine(t *testing.T) {
	tests := []struct {
		name, give, want string
	}{
		{"key indented too little", "inner:\n  urls: [a]\n  retries: 1\n timeout: 1s\nname: x\n",
			"c.yaml:4: inner.timeout: YAML syntax error: did not find expected key (is this line indented like the other keys of its section?)"},
		{"key indented under a value", "version: 1\ninner:\n  urls: [a]\n  retries: 1\n    timeout: 1s\n",
			"c.yaml:5: inner.retries.timeout: YAML syntax error: mapping values are not allowed in this context"},
		{"unclosed bracket", "version: 1\ninner:\n  urls: [nats://a:4222\n  retries: 1\nname: x\n",
			"c.yaml:3: inner.urls: YAML syntax error: did not find expected ',' or ']' (is a [ or { opened here left unclosed?)"},
		{"list item among keys", "inner:\n  urls: [a]\n  - b\n  retries: 1\n",
			"c.yaml:3: YAML syntax error after inner.urls: did not find expected key"},
		{"list item indented wrong", "version: 1\ninner:\n  urls:\n    - a\n   - b\n",
			"c.yaml:5: YAML syntax error after inner.urls[0]"},
		{"unclosed quote", "inner:\n  urls: [a]\nname: \"abc\nversion: 1\n",
			"c.yaml:3: name: YAML syntax error: found unexpected end of stream (is a quote opened here left unclosed?)"},
		{"tab", "inner:\n  urls: [a]\n\tretries: 1\n", "c.yaml:3: YAML syntax error after inner.urls: found character that cannot start any token (YAML does not allow tabs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaults()
			err := Decode("c.yaml", []byte(tt.give), &c, env(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error\n%v\nwant it to contain\n%s", err, tt.want)
			}
		})
	}
}

// TestEnvErrorsNameTheKey: a bad environment override names the key and
// the variable, and says what to write.
func TestEnvErrorsNameTheKey(t *testing.T) {
	c := defaults()
	err := ApplyEnv(&c, env(map[string]string{"GM_INNER_TIMEOUT": "30", "GM_INNER_RETRIES": "lots", "GM_VERSION": "1.5"}))
	for _, w := range []string{
		"inner.timeout (from GM_INNER_TIMEOUT): 30 has no unit: write a duration such as 30s or 2m",
		`inner.retries (from GM_INNER_RETRIES): want a whole number, got "lots"`,
		`version (from GM_VERSION): want a whole number, got "1.5"`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error\n%v\nwant it to contain\n%s", err, w)
		}
	}
	noGoNames(t, err)
}

// TestUnreadSection: another binary's section is decoded strictly, its
// values dropped, and its keys neither described nor read from the
// environment.
func TestUnreadSection(t *testing.T) {
	type cfg struct {
		Name  string            `yaml:"name"`
		Other Unread[testInner] `yaml:"other"`
	}
	var c cfg
	if err := Decode("c.yaml", []byte("other:\n  urls: [a]\n  timeout: 2s\n"), &c, env(nil)); err != nil {
		t.Fatal(err)
	}
	err := Decode("c.yaml", []byte("other:\n  retries: x\n  tmeout: 2s\n"), &c, env(nil))
	for _, w := range []string{`c.yaml:2: other.retries: want a whole number, got "x"`, "c.yaml:3: other.tmeout: unknown key; did you mean other.timeout?"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error\n%v\nwant it to contain\n%s", err, w)
		}
	}
	if keys := Describe(&c); len(keys) != 1 || keys[0].Path != "name" {
		t.Errorf("Describe lists %+v, want only name", keys)
	}
	if err := ApplyEnv(&c, env(map[string]string{"GM_OTHER_RETRIES": "x"})); err != nil {
		t.Errorf("an unread section's variables must not be read: %v", err)
	}
}

// TestLocate: validation problems point at where the value was set.
func TestLocate(t *testing.T) {
	type site struct {
		Name   string `yaml:"name"`
		Secret string `yaml:"secret"`
	}
	type cfg struct {
		Name  string    `yaml:"name"`
		Inner testInner `yaml:"inner"`
		Sites []site    `yaml:"sites"`
	}
	path := t.TempDir() + "/c.yaml"
	if err := os.WriteFile(path, []byte("name: x\ninner:\n  retries: -1\nsites:\n  - name: a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var c cfg
	o, err := Read(path, &c, env(map[string]string{"GM_INNER_TIMEOUT": "-1s"}))
	if err != nil {
		t.Fatal(err)
	}
	o.Set("name", "-name")
	var p Problems
	p.Check(false, "name", "bad")
	p.Merge("inner", func() error {
		var q Problems
		q.Check(false, "retries", "must not be negative")
		q.Check(false, "timeout", "must be positive")
		q.Check(false, "urls", "is required")
		return q.Err()
	}())
	p.Check(false, "sites[0].secret", "is required")
	got := o.Locate(p.Err()).Error()
	for _, w := range []string{
		"name (from -name): bad",
		path + ":3: inner.retries: must not be negative",
		"inner.timeout (from GM_INNER_TIMEOUT): must be positive",
		"\ninner.urls: is required",
		path + ":5: sites[0].secret: is required",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("located\n%s\nwant it to contain\n%s", got, w)
		}
	}
}
