package repo

import (
	"bufio"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"
)

// dockerfile is the part of a Dockerfile the tests check, parsed by hand:
// instructions with their line continuations joined and comments dropped
// (enough for this file's plain syntax; no heredocs, no parser directives
// beyond the syntax line, which is a comment here).
type dockerfile struct {
	stages []*dfStage
}

type dfStage struct {
	name, base  string
	user        string
	env         map[string]string
	runs        []string
	copies      []dfCopy
	healthcheck []string // exec form, after CMD
	entrypoint  []string
}

type dfCopy struct {
	from string // stage, or "" for the build context
	srcs []string
	dest string
}

func parseDockerfile(t *testing.T, file string) *dockerfile {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		if s := strings.TrimSpace(cur.String()); s != "" {
			lines = append(lines, s)
		}
		cur.Reset()
	}
	df := &dockerfile{}
	var st *dfStage
	for _, line := range lines {
		instr, rest, _ := strings.Cut(line, " ")
		instr, rest = strings.ToUpper(instr), strings.TrimSpace(rest)
		if instr == "FROM" {
			fields := strings.Fields(rest)
			st = &dfStage{base: fields[0], env: map[string]string{}}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				st.name = fields[2]
			}
			df.stages = append(df.stages, st)
			continue
		}
		if st == nil {
			if instr != "ARG" {
				t.Fatalf("Dockerfile: %s before the first FROM", instr)
			}
			continue
		}
		switch instr {
		case "USER":
			st.user = rest
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				st.env[k] = v
			}
		case "RUN":
			st.runs = append(st.runs, rest)
		case "COPY":
			var c dfCopy
			fields := strings.Fields(rest)
			for len(fields) > 0 && strings.HasPrefix(fields[0], "--") {
				if v, ok := strings.CutPrefix(fields[0], "--from="); ok {
					c.from = v
				}
				fields = fields[1:]
			}
			c.srcs, c.dest = fields[:len(fields)-1], fields[len(fields)-1]
			st.copies = append(st.copies, c)
		case "HEALTHCHECK":
			_, cmd, ok := strings.Cut(rest, "CMD ")
			if !ok || json.Unmarshal([]byte(cmd), &st.healthcheck) != nil {
				t.Fatalf("Dockerfile: HEALTHCHECK %q is not CMD in exec form (the image has no shell)", rest)
			}
		case "ENTRYPOINT":
			if json.Unmarshal([]byte(rest), &st.entrypoint) != nil {
				t.Fatalf("Dockerfile: ENTRYPOINT %q is not in exec form", rest)
			}
		}
	}
	return df
}

func (d *dockerfile) stage(name string) *dfStage {
	for _, s := range d.stages {
		if s.name == name {
			return s
		}
	}
	return &dfStage{name: name + " (missing)"}
}

// has reports whether the stage copies a file to path.
func (s *dfStage) has(p string) bool {
	for _, c := range s.copies {
		for _, src := range c.srcs {
			dest := c.dest
			if strings.HasSuffix(dest, "/") {
				dest += path.Base(src)
			}
			if dest == p {
				return true
			}
		}
	}
	return false
}

// goBuilds returns the package paths and output directories of the
// `go build` commands of the stage's RUN instructions.
func (s *dfStage) goBuilds() (pkgs []string, outs map[string]string) {
	outs = map[string]string{} // binary path -> package
	for _, run := range s.runs {
		for cmd := range strings.SplitSeq(run, "&&") {
			fields := strings.Fields(cmd)
			if len(fields) < 2 || fields[0] != "go" || fields[1] != "build" {
				continue
			}
			out := ""
			for i := 2; i < len(fields); i++ {
				switch {
				case fields[i] == "-o" && i+1 < len(fields):
					out = fields[i+1]
					i++
				case strings.HasPrefix(fields[i], "./"):
					pkgs = append(pkgs, fields[i])
					outs[strings.TrimSuffix(out, "/")+"/"+path.Base(fields[i])] = fields[i]
				}
			}
		}
	}
	return pkgs, outs
}

// TestDockerfile checks the image build: multi-stage, static binaries
// built from packages that exist, distroless final images running as a
// non-root user, a health check that needs no shell, and nothing from
// configs/ in an image but the embedded default mapping.
func TestDockerfile(t *testing.T) {
	root := repoRoot(t)
	df := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	if len(df.stages) < 2 {
		t.Fatalf("%d stages: want a multi-stage build", len(df.stages))
	}
	build := df.stage("build")
	if !strings.HasPrefix(build.base, "golang:") {
		t.Fatalf("build stage from %q, want golang", build.base)
	}
	if build.env["CGO_ENABLED"] != "0" {
		t.Fatal("the build stage must set CGO_ENABLED=0: the final images have no libc")
	}
	pkgs, outs := build.goBuilds()
	if len(pkgs) == 0 {
		t.Fatal("no go build in the build stage")
	}
	list := exec.Command("go", append([]string{"list", "-f", "{{.Name}}"}, pkgs...)...)
	list.Dir = root
	out, err := list.CombinedOutput()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", pkgs, err, out)
	}
	for _, name := range strings.Fields(string(out)) {
		if name != "main" {
			t.Fatalf("the Dockerfile builds a non-main package (%s): %v", name, pkgs)
		}
	}
	for _, c := range build.copies {
		for _, src := range c.srcs {
			clean := strings.TrimSuffix(src, "/")
			if clean == "." || clean == "configs" || strings.HasSuffix(src, ".env") || strings.Contains(src, "*") {
				t.Errorf("COPY %s into the build: copy only what the build needs (configs/ may hold env files with secrets)", src)
			}
		}
	}

	if last := df.stages[len(df.stages)-1]; last.name != "runtime" {
		t.Errorf("the last stage (the default target) is %q, want runtime", last.name)
	}
	for _, name := range []string{"runtime", "demo"} {
		st := df.stage(name)
		if !strings.HasPrefix(st.base, "gcr.io/distroless/static") && st.base != "scratch" {
			t.Errorf("%s: base %q, want distroless/static or scratch", name, st.base)
		}
		if u := strings.Split(st.user, ":")[0]; u == "" || u == "0" || u == "root" {
			t.Errorf("%s: USER %q, want a non-root user", name, st.user)
		}
		for _, c := range st.copies {
			if c.from != "build" {
				t.Errorf("%s: COPY %v from %q: only the built binaries belong in the image", name, c.srcs, c.from)
			}
			for _, src := range c.srcs {
				if _, ok := outs[src]; !ok {
					t.Errorf("%s: copies %s, which no go build of the build stage writes", name, src)
				}
			}
		}
		if len(st.entrypoint) == 0 || !st.has(st.entrypoint[0]) {
			t.Errorf("%s: ENTRYPOINT %v is not a binary of the stage", name, st.entrypoint)
		}
	}
	rt := df.stage("runtime")
	for _, bin := range pipelineServices {
		if !rt.has("/usr/local/bin/" + bin) {
			t.Errorf("runtime image lacks %s", bin)
		}
	}
	if hc := rt.healthcheck; len(hc) != 2 || !rt.has(hc[0]) || hc[1] != "healthz" {
		t.Errorf("runtime HEALTHCHECK %v, want [<binary> healthz]", hc)
	}
	if rt.env["GM_TELEMETRY_LISTEN"] == "" {
		t.Error("runtime image must serve the telemetry endpoint its health check asks (GM_TELEMETRY_LISTEN)")
	}
	if slices.ContainsFunc(df.stage("demo").copies, func(c dfCopy) bool { return slices.Contains(c.srcs, "/out/extractor") }) {
		t.Error("demo image: the simulators only; the pipeline runs from the runtime image")
	}
	// Every simulator command is in the demo image, the one compose's demo
	// services run: a simulator added without it has no demo service.
	sims, err := filepath.Glob(filepath.Join(root, "internal", "cmd", "*-sim"))
	if err != nil || len(sims) == 0 {
		t.Fatalf("no simulator commands in internal/cmd (%v)", err)
	}
	for _, dir := range sims {
		name := filepath.Base(dir)
		if outs["/out/demo/"+name] != "./internal/cmd/"+name {
			t.Errorf("the build stage does not build ./internal/cmd/%s into /out/demo/", name)
		}
		if !df.stage("demo").has("/usr/local/bin/" + name) {
			t.Errorf("the demo image lacks /usr/local/bin/%s", name)
		}
	}
}
