package repo

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/gigya-migrate/gigya-migrate/"

// layoutGroup is one row of the import rules of docs/layout.md: the
// packages it holds and what they may import inside the module.
type layoutGroup struct {
	name    string
	holds   func(pkg string) bool
	mayUse  func(pkg, imp string) bool
	matched int
}

func under(prefixes ...string) func(string) bool {
	return func(p string) bool {
		for _, pre := range prefixes {
			if p == pre || strings.HasPrefix(p, pre+"/") {
				return true
			}
		}
		return false
	}
}

var (
	isAPI      = under("pkg/fault", "pkg/sink")
	isPipeline = under("internal/pipeline")
	isStage    = under("internal/extract", "internal/transform", "internal/load")
	isTestkit  = under("internal/testkit")
	isTool     = under("internal/quickstart", "internal/cmd")
	isLeaf     = under("internal/swar")
)

func layoutGroups() []*layoutGroup {
	library := func(own func(string) bool, extra ...func(string) bool) func(string, string) bool {
		return func(_, imp string) bool {
			if own(imp) || isPipeline(imp) || isLeaf(imp) || imp == "pkg/fault" {
				return true
			}
			for _, e := range extra {
				if e(imp) {
					return true
				}
			}
			return false
		}
	}
	return []*layoutGroup{
		{name: "public API (pkg/fault, pkg/sink)", holds: isAPI,
			mayUse: func(_, imp string) bool { return isAPI(imp) }},
		{name: "pkg/loader", holds: under("pkg/loader"),
			mayUse: func(_, imp string) bool {
				return strings.HasPrefix(imp, "pkg/") || imp == "internal/load" || imp == "internal/targets" || imp == "internal/pipeline/stage"
			}},
		{name: "leaf helpers (internal/swar)", holds: isLeaf, mayUse: func(string, string) bool { return false }},
		{name: "pipeline plumbing", holds: isPipeline, mayUse: library(isPipeline)},
		{name: "Gigya", holds: under("internal/gigya"), mayUse: library(under("internal/gigya"))},
		{name: "mapping", holds: under("internal/mapping"), mayUse: library(under("internal/mapping"))},
		{name: "targets", holds: under("internal/targets"), mayUse: library(under("internal/targets"), under("pkg/sink"))},
		{name: "operator commands", holds: under("internal/ops"), mayUse: library(under("internal/ops"), under("internal/gigya"))},
		{name: "login service", holds: under("internal/login"),
			mayUse: library(under("internal/login"), under("internal/gigya"), under("internal/mapping"), under("internal/targets"))},
		{name: "stages", holds: isStage,
			mayUse: func(pkg, imp string) bool {
				return !isStage(imp) && !isTestkit(imp) && !isTool(imp) && !strings.HasPrefix(imp, "pkg/loader")
			}},
		{name: "test doubles", holds: isTestkit,
			mayUse: func(_, imp string) bool {
				return !isStage(imp) && !isTool(imp) && !strings.HasPrefix(imp, "pkg/loader")
			}},
		{name: "tools", holds: isTool,
			mayUse: func(_, imp string) bool { return !isStage(imp) && !strings.HasPrefix(imp, "pkg/loader") }},
		{name: "binaries", holds: under("extractor", "transformer", "loader"),
			mayUse: func(pkg, imp string) bool {
				own := map[string]string{"extractor": "internal/extract", "transformer": "internal/transform", "loader": "pkg/loader"}[pkg]
				return imp == own || (pkg != "loader" && imp == "internal/pipeline/stage")
			}},
		{name: "configs", holds: under("configs"), mayUse: func(string, string) bool { return false }},
	}
}

// TestLayout holds every package of the module (tests aside) to the import
// rules of docs/layout.md: stages never import each other, nothing under
// pkg/ or internal/ imports a stage but pkg/loader its own, the public API
// exposes no internal type, libraries stay in their lane, and only tests
// and tools use the test doubles.
func TestLayout(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	groups := layoutGroups()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		if strings.HasPrefix(pkg, "test/") {
			continue // the suites may import anything
		}
		i := slices.IndexFunc(groups, func(g *layoutGroup) bool { return g.holds(pkg) })
		if i < 0 {
			t.Errorf("package %s belongs to no folder of docs/layout.md: place it, or add its folder to the layout and to this test", pkg)
			continue
		}
		g := groups[i]
		g.matched++
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			if imp = strings.TrimPrefix(imp, module); !g.mayUse(pkg, imp) {
				t.Errorf("%s (%s) imports %s, which docs/layout.md does not allow", pkg, g.name, imp)
			}
		}
	}
	for _, g := range groups {
		if g.matched == 0 {
			t.Errorf("no package is in the group %q: the layout changed; update docs/layout.md and this test", g.name)
		}
	}
}
