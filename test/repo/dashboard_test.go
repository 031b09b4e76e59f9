package repo

// The tests here keep configs/grafana-dashboard.json true to the code:
// every gm_* metric a panel queries must be defined by a non-test Go file
// of the module, and every gm_* metric the code defines must appear in a
// panel. They read the Go sources as text (go/parser) rather than importing
// the packages that define the metrics: they were written inside package
// configs, which those packages import.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const (
	dashboardFile = "grafana-dashboard.json"
	// dashboardPath names the dashboard in messages, from the module root.
	dashboardPath = "configs/" + dashboardFile
	// dashboardLocal is the dashboard from this package's directory, where
	// go test runs.
	dashboardLocal = "../../" + dashboardPath
	// dsVar is the datasource every panel must use: the __inputs entry and
	// templating variable DS_PROMETHEUS, so the file imports cleanly and
	// also works when provisioned as is.
	dsVar = "${DS_PROMETHEUS}"
	// gridWidth is the width of Grafana's layout grid.
	gridWidth = 24
)

// metricDef is one gm_* metric found in the Go sources.
type metricDef struct {
	name string
	// kind is counter, gauge, histogram, summary or untyped, or "" when the
	// name is not passed to a recognised prometheus constructor (e.g. it
	// goes through a helper function).
	kind string
	// labels are the variable labels; known is false when they could not be
	// read from the source (not a literal []string, or kind unknown).
	labels []string
	known  bool
	pos    string // file:line from the module root
}

func (d metricDef) describe() string {
	kind := d.kind
	if kind == "" {
		kind = "metric"
	}
	if d.known {
		return fmt.Sprintf("%s %s{%s} defined at %s", kind, d.name, strings.Join(d.labels, ","), d.pos)
	}
	return fmt.Sprintf("%s %s defined at %s", kind, d.name, d.pos)
}

// metricNameRE is what a gm_* metric name looks like as a Go string literal.
var metricNameRE = regexp.MustCompile(`^gm_[a-z0-9_]+$`)

// constructors maps the prometheus (or promauto) constructors to the kind
// of metric they build and whether they take variable labels.
var constructors = map[string]struct {
	kind string
	vec  bool
}{
	"NewCounter": {"counter", false}, "NewCounterVec": {"counter", true}, "NewCounterFunc": {"counter", false},
	"NewGauge": {"gauge", false}, "NewGaugeVec": {"gauge", true}, "NewGaugeFunc": {"gauge", false},
	"NewHistogram": {"histogram", false}, "NewHistogramVec": {"histogram", true},
	"NewSummary": {"summary", false}, "NewSummaryVec": {"summary", true},
	"NewUntypedFunc": {"untyped", false},
}

// optsKinds maps an options struct to the kind of metric it describes, for
// a name found in an options literal that is not passed to a constructor
// directly.
var optsKinds = map[string]string{
	"CounterOpts": "counter", "GaugeOpts": "gauge", "HistogramOpts": "histogram",
	"SummaryOpts": "summary", "UntypedOpts": "untyped",
}

var (
	codeMetricsOnce sync.Once
	codeMetricsDefs map[string]metricDef
	codeMetricsErr  error
)

// codeMetrics returns the gm_* metrics the module's non-test Go files
// define, scanned once per test binary.
func codeMetrics(t *testing.T) map[string]metricDef {
	t.Helper()
	codeMetricsOnce.Do(func() {
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			codeMetricsErr = err
			return
		}
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
			codeMetricsErr = fmt.Errorf("../.. of test/repo is not the module root: %w", err)
			return
		}
		codeMetricsDefs, codeMetricsErr = scanMetrics(root, t.Logf)
	})
	if codeMetricsErr != nil {
		t.Fatalf("scanning the Go sources for gm_* metrics: %v", codeMetricsErr)
	}
	if len(codeMetricsDefs) == 0 {
		t.Fatal("no gm_* metric found in the Go sources: the scan is broken")
	}
	return codeMetricsDefs
}

// scanMetrics walks the module at root (skipping testdata, vendor, hidden
// and _ directories, nested modules and _test.go files) and returns every
// Go string literal that is a gm_* metric name, with what the source says
// of its kind and labels. A file that does not parse (someone is editing
// it) is scanned with a regexp instead.
func scanMetrics(root string, logf func(string, ...any)) (map[string]metricDef, error) {
	defs := map[string]metricDef{}
	add := func(d metricDef) {
		if old, ok := defs[d.name]; ok && (old.kind != "" || d.kind == "") && (old.known || !d.known) {
			return // keep the most informative definition
		}
		defs[d.name] = d
	}
	quoted := regexp.MustCompile(`"(gm_[a-z0-9_]+)"`)
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if path == root {
				return nil
			}
			name := e.Name()
			if name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		fset := token.NewFileSet()
		f, perr := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if perr != nil {
			logf("%s does not parse (%v); scanning it with a regexp", rel, perr)
			for _, m := range quoted.FindAllSubmatchIndex(src, -1) {
				line := 1 + bytes.Count(src[:m[0]], []byte("\n"))
				add(metricDef{name: string(src[m[2]:m[3]]), pos: fmt.Sprintf("%s:%d", rel, line)})
			}
			return nil
		}
		for _, d := range fileMetrics(fset, f, rel) {
			add(d)
		}
		return nil
	})
	return defs, err
}

// fileMetrics returns the gm_* metric names among the string literals of f.
func fileMetrics(fset *token.FileSet, f *ast.File, rel string) []metricDef {
	var defs []metricDef
	seen := map[*ast.BasicLit]bool{}
	pos := func(n ast.Node) string { return fmt.Sprintf("%s:%d", rel, fset.Position(n.Pos()).Line) }
	// nameIn returns the gm_* Name of an options literal.
	nameIn := func(e ast.Expr) (*ast.BasicLit, string) {
		cl, ok := e.(*ast.CompositeLit)
		if !ok {
			return nil, ""
		}
		for _, el := range cl.Elts {
			kv, ok := el.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			if k, ok := kv.Key.(*ast.Ident); !ok || k.Name != "Name" {
				continue
			}
			if lit, s := metricLit(kv.Value); lit != nil {
				return lit, s
			}
		}
		return nil, ""
	}
	var calls []*ast.CallExpr
	var lits []*ast.CompositeLit
	var strs []*ast.BasicLit
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			calls = append(calls, n)
		case *ast.CompositeLit:
			lits = append(lits, n)
		case *ast.BasicLit:
			strs = append(strs, n)
		}
		return true
	})
	// prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gm_..."}, []string{...})
	for _, c := range calls {
		var fn string
		switch f := c.Fun.(type) {
		case *ast.SelectorExpr:
			fn = f.Sel.Name
		case *ast.Ident:
			fn = f.Name
		}
		ctor, ok := constructors[fn]
		if !ok || len(c.Args) == 0 {
			continue
		}
		lit, name := nameIn(c.Args[0])
		if lit == nil {
			continue
		}
		seen[lit] = true
		d := metricDef{name: name, kind: ctor.kind, pos: pos(lit), known: !ctor.vec}
		if ctor.vec && len(c.Args) > 1 {
			d.labels, d.known = stringList(c.Args[1])
		}
		defs = append(defs, d)
	}
	// A helper that builds the metric from a name parameter, e.g.
	//	gauge := func(metric, help string) prometheus.Gauge {
	//		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metric, ...}, []string{"consumer"})
	//	...
	//	gauge("gm_consumer_pending", "...")
	helpers := map[string]metricDef{} // function name -> kind and labels; name holds the parameter index
	helperOf := func(fname string, ft *ast.FuncType, body *ast.BlockStmt) {
		var params []string
		for _, f := range ft.Params.List {
			for _, n := range f.Names {
				params = append(params, n.Name)
			}
		}
		ast.Inspect(body, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok || len(c.Args) == 0 {
				return true
			}
			sel, ok := c.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			ctor, ok := constructors[sel.Sel.Name]
			if !ok {
				return true
			}
			cl, ok := c.Args[0].(*ast.CompositeLit)
			if !ok {
				return true
			}
			for _, el := range cl.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				k, ok1 := kv.Key.(*ast.Ident)
				v, ok2 := kv.Value.(*ast.Ident)
				if !ok1 || !ok2 || k.Name != "Name" {
					continue
				}
				if i := slices.Index(params, v.Name); i >= 0 {
					h := metricDef{name: strconv.Itoa(i), kind: ctor.kind, known: !ctor.vec}
					if ctor.vec && len(c.Args) > 1 {
						h.labels, h.known = stringList(c.Args[1])
					}
					helpers[fname] = h
				}
			}
			return true
		})
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Recv == nil && n.Body != nil {
				helperOf(n.Name.Name, n.Type, n.Body)
			}
		case *ast.AssignStmt:
			for i, r := range n.Rhs {
				fl, ok := r.(*ast.FuncLit)
				if !ok || i >= len(n.Lhs) {
					continue
				}
				if id, ok := n.Lhs[i].(*ast.Ident); ok {
					helperOf(id.Name, fl.Type, fl.Body)
				}
			}
		}
		return true
	})
	for _, c := range calls {
		id, ok := c.Fun.(*ast.Ident)
		if !ok {
			continue
		}
		h, ok := helpers[id.Name]
		if !ok {
			continue
		}
		i, _ := strconv.Atoi(h.name)
		if i >= len(c.Args) {
			continue
		}
		if lit, name := metricLit(c.Args[i]); lit != nil && !seen[lit] {
			seen[lit] = true
			defs = append(defs, metricDef{name: name, kind: h.kind, labels: h.labels, known: h.known, pos: pos(lit)})
		}
	}
	// opts := prometheus.GaugeOpts{Name: "gm_..."}: the kind, not the labels.
	for _, cl := range lits {
		lit, name := nameIn(cl)
		if lit == nil || seen[lit] {
			continue
		}
		var typ string
		switch t := cl.Type.(type) {
		case *ast.SelectorExpr:
			typ = t.Sel.Name
		case *ast.Ident:
			typ = t.Name
		}
		seen[lit] = true
		defs = append(defs, metricDef{name: name, kind: optsKinds[typ], pos: pos(lit)})
	}
	// Any other "gm_..." literal, e.g. passed to a helper that builds the
	// metric: a definition of unknown kind and labels.
	for _, lit := range strs {
		if seen[lit] {
			continue
		}
		if l, name := metricLit(lit); l != nil {
			defs = append(defs, metricDef{name: name, pos: pos(lit)})
		}
	}
	return defs
}

// metricLit returns e and its value if e is a string literal naming a gm_*
// metric.
func metricLit(e ast.Expr) (*ast.BasicLit, string) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return nil, ""
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil || !metricNameRE.MatchString(s) {
		return nil, ""
	}
	return lit, s
}

// stringList returns the values of a []string{"a", "b"} literal.
func stringList(e ast.Expr) ([]string, bool) {
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil, false
	}
	out := []string{}
	for _, el := range cl.Elts {
		lit, ok := el.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return nil, false
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// The parts of a Grafana dashboard the tests look at.
type (
	dashboard struct {
		Inputs        []input `json:"__inputs"`
		Title         string  `json:"title"`
		UID           string  `json:"uid"`
		SchemaVersion int     `json:"schemaVersion"`
		Panels        []panel `json:"panels"`
		Templating    struct {
			List []struct {
				Name       string          `json:"name"`
				Type       string          `json:"type"`
				Query      json.RawMessage `json:"query"`
				Datasource json.RawMessage `json:"datasource"`
			} `json:"list"`
		} `json:"templating"`
	}
	input struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		PluginID string `json:"pluginId"`
	}
	panel struct {
		ID          int                      `json:"id"`
		Type        string                   `json:"type"`
		Title       string                   `json:"title"`
		Description string                   `json:"description"`
		Datasource  json.RawMessage          `json:"datasource"`
		GridPos     struct{ H, W, X, Y int } `json:"gridPos"`
		Targets     []target                 `json:"targets"`
		Panels      []panel                  `json:"panels"` // of a collapsed row
	}
	target struct {
		RefID        string          `json:"refId"`
		Expr         string          `json:"expr"`
		LegendFormat string          `json:"legendFormat"`
		Datasource   json.RawMessage `json:"datasource"`
	}
)

// parseDashboard decodes a dashboard, rejecting anything but one JSON
// object.
func parseDashboard(raw []byte) (*dashboard, error) {
	if !json.Valid(raw) {
		var v any
		err := json.Unmarshal(raw, &v)
		return nil, fmt.Errorf("%s is not valid JSON: %v", dashboardPath, err)
	}
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%s: %v", dashboardPath, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: data after the dashboard object", dashboardPath)
	}
	return &d, nil
}

// allPanels returns the panels in order, rows' nested panels after their row.
func (d *dashboard) allPanels() []panel {
	var out []panel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

// usesDSVar reports whether a datasource reference is the DS_PROMETHEUS
// variable.
func usesDSVar(raw json.RawMessage) bool {
	var ref struct{ Type, UID string }
	if json.Unmarshal(raw, &ref) != nil {
		return false
	}
	return ref.UID == dsVar && (ref.Type == "" || ref.Type == "prometheus")
}

// structureProblems checks what Grafana needs to import and draw the
// dashboard, and the tidiness rules: titles, descriptions, the datasource
// variable, unique ids, a layout without overlaps.
func structureProblems(d *dashboard) []string {
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if d.Title == "" || d.UID == "" {
		bad("the dashboard needs a title and a uid")
	}
	if d.SchemaVersion < 36 {
		bad("schemaVersion %d: use 36 or later (datasource references as objects)", d.SchemaVersion)
	}
	if !slices.ContainsFunc(d.Inputs, func(in input) bool {
		return in.Name == "DS_PROMETHEUS" && in.Type == "datasource" && in.PluginID == "prometheus"
	}) {
		bad("__inputs must declare DS_PROMETHEUS, a prometheus datasource, so the dashboard imports cleanly")
	}
	hasVar := false
	for _, v := range d.Templating.List {
		switch {
		case v.Name == "DS_PROMETHEUS":
			hasVar = v.Type == "datasource" && string(v.Query) == `"prometheus"`
		case v.Type == "query" && !usesDSVar(v.Datasource):
			bad("template variable %q: its datasource must be %s", v.Name, dsVar)
		}
	}
	if !hasVar {
		bad("templating must define DS_PROMETHEUS, a datasource variable of type prometheus")
	}
	if len(d.Panels) == 0 {
		bad("the dashboard has no panels")
	}
	ids := map[int]string{}
	for _, pn := range d.allPanels() {
		name := fmt.Sprintf("panel %d %q", pn.ID, pn.Title)
		if strings.TrimSpace(pn.Title) == "" {
			bad("%s has no title", name)
		}
		if pn.ID <= 0 {
			bad("%s needs a positive id", name)
		} else if other, dup := ids[pn.ID]; dup {
			bad("%s has the id of %q", name, other)
		}
		ids[pn.ID] = pn.Title
		g := pn.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > gridWidth {
			bad("%s: gridPos %+v is outside the %d-column grid", name, g, gridWidth)
		}
		if pn.Type == "row" {
			if len(pn.Targets) > 0 {
				bad("%s is a row and must not have queries", name)
			}
			continue
		}
		if !usesDSVar(pn.Datasource) {
			bad("%s: datasource must be {\"type\": \"prometheus\", \"uid\": %q}, got %s", name, dsVar, pn.Datasource)
		}
		if strings.TrimSpace(pn.Description) == "" {
			bad("%s has no description: tell the operator what to do when it looks wrong", name)
		}
		if len(pn.Targets) == 0 {
			bad("%s has no query", name)
		}
		refs := map[string]bool{}
		for _, tg := range pn.Targets {
			if strings.TrimSpace(tg.Expr) == "" {
				bad("%s: target %q has no expr", name, tg.RefID)
			}
			if tg.RefID == "" || refs[tg.RefID] {
				bad("%s: target refIds must be set and unique (%q)", name, tg.RefID)
			}
			refs[tg.RefID] = true
			if len(tg.Datasource) > 0 && !usesDSVar(tg.Datasource) {
				bad("%s: target %q datasource must be %s, got %s", name, tg.RefID, dsVar, tg.Datasource)
			}
		}
	}
	// Top-level panels must not overlap (a collapsed row's panels are
	// placed when it opens).
	for i, a := range d.Panels {
		for _, b := range d.Panels[i+1:] {
			ga, gb := a.GridPos, b.GridPos
			if ga.X < gb.X+gb.W && gb.X < ga.X+ga.W && ga.Y < gb.Y+gb.H && gb.Y < ga.Y+ga.H {
				bad("panels %q and %q overlap", a.Title, b.Title)
			}
		}
	}
	return p
}

var (
	// exprMetricRE finds gm_* identifiers in PromQL (more permissive than
	// the code's names, so a typo shows up rather than being skipped).
	exprMetricRE = regexp.MustCompile(`(?:^|[^a-zA-Z0-9_:])(gm_[a-zA-Z0-9_:]+)`)
	// selectorRE finds metric names followed by a label selector.
	selectorRE = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{`)
	// matcherRE finds label matchers inside {...}.
	matcherRE = regexp.MustCompile(`\{([^{}]*)\}`)
	matchRE   = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
	// groupingRE finds by/without/on/ignoring/group_* label lists.
	groupingRE = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	legendRE   = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)
)

// targetLabels are added by Prometheus to every scraped series.
var targetLabels = []string{"job", "instance"}

// use is one gm_* identifier a panel query mentions.
type use struct {
	ident string // as written, e.g. gm_loader_write_seconds_bucket
	panel string
	ref   string
}

// dashboardUses returns the gm_* identifiers of every panel query.
func dashboardUses(d *dashboard) []use {
	var out []use
	for _, pn := range d.allPanels() {
		for _, tg := range pn.Targets {
			for _, m := range exprMetricRE.FindAllStringSubmatch(tg.Expr, -1) {
				out = append(out, use{ident: m[1], panel: pn.Title, ref: tg.RefID})
			}
		}
	}
	return out
}

// resolve maps an identifier of a query to the metric the code defines:
// itself, or for a histogram (or summary) the name without _bucket, _sum or
// _count. It returns "" and the problem when the identifier does not fit
// the code.
func resolve(ident string, defs map[string]metricDef) (string, string) {
	if d, ok := defs[ident]; ok {
		if d.kind == "histogram" {
			return ident, fmt.Sprintf("%s is a histogram (%s): query %s_bucket, _sum or _count, the name alone has no series",
				ident, d.pos, ident)
		}
		return ident, ""
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(ident, suffix)
		if !ok {
			continue
		}
		d, ok := defs[base]
		if !ok {
			continue
		}
		switch {
		case d.kind == "histogram", d.kind == "", d.kind == "summary" && suffix != "_bucket":
			return base, ""
		default:
			return "", fmt.Sprintf("%s: %s is a %s (%s), it has no %s series", ident, base, d.kind, d.pos, suffix)
		}
	}
	return "", fmt.Sprintf("no Go file defines %s (renamed or removed?)", ident)
}

// metricProblems checks the dashboard's queries against the code's metrics
// both ways.
func metricProblems(d *dashboard, defs map[string]metricDef) []string {
	var p []string
	used := map[string]bool{}
	reported := map[string]bool{}
	for _, u := range dashboardUses(d) {
		base, problem := resolve(u.ident, defs)
		if base != "" {
			used[base] = true
		}
		if problem != "" && !reported[u.ident+u.panel] {
			reported[u.ident+u.panel] = true
			p = append(p, fmt.Sprintf("panel %q query %s: %s; fix the query in %s, or the metric's definition if the dashboard is right",
				u.panel, u.ref, problem, dashboardPath))
		}
	}
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !used[n] {
			p = append(p, fmt.Sprintf("%s appears in no panel: add a panel (or a query to a panel) for it to %s",
				defs[n].describe(), dashboardPath))
		}
	}
	return p
}

// labelProblems checks that each query groups, filters and names its series
// by labels its metrics have. Queries on metrics whose labels the scan could
// not read, or on metrics other than gm_*, are skipped.
func labelProblems(d *dashboard, defs map[string]metricDef) []string {
	var p []string
	for _, pn := range d.allPanels() {
	targets:
		for _, tg := range pn.Targets {
			allowed := map[string]bool{}
			for _, l := range targetLabels {
				allowed[l] = true
			}
			var metrics []string
			for _, m := range selectorRE.FindAllStringSubmatch(tg.Expr, -1) {
				if !strings.HasPrefix(m[1], "gm_") {
					continue targets // another exporter's metric: labels unknown here
				}
			}
			for _, m := range exprMetricRE.FindAllStringSubmatch(tg.Expr, -1) {
				base, problem := resolve(m[1], defs)
				if problem != "" && base == "" {
					continue targets // reported by metricProblems
				}
				def := defs[base]
				if !def.known {
					continue targets
				}
				for _, l := range def.labels {
					allowed[l] = true
				}
				if base != m[1] && strings.HasSuffix(m[1], "_bucket") {
					allowed["le"] = true
				} else if def.kind == "summary" {
					allowed["quantile"] = true
				}
				metrics = append(metrics, fmt.Sprintf("%s{%s}", base, strings.Join(def.labels, ",")))
			}
			if len(metrics) == 0 {
				continue
			}
			var refs []string
			for _, sel := range matcherRE.FindAllStringSubmatch(tg.Expr, -1) {
				for _, m := range matchRE.FindAllStringSubmatch(sel[1], -1) {
					refs = append(refs, m[1])
				}
			}
			for _, g := range groupingRE.FindAllStringSubmatch(tg.Expr, -1) {
				for _, l := range strings.Split(g[1], ",") {
					if l = strings.TrimSpace(l); l != "" {
						refs = append(refs, l)
					}
				}
			}
			for _, m := range legendRE.FindAllStringSubmatch(tg.LegendFormat, -1) {
				refs = append(refs, m[1])
			}
			seen := map[string]bool{}
			for _, l := range refs {
				if allowed[l] || seen[l] {
					continue
				}
				seen[l] = true
				p = append(p, fmt.Sprintf("panel %q query %s uses label %q, which its metrics do not have (%s); fix the query in %s",
					pn.Title, tg.RefID, l, strings.Join(slices.Compact(metrics), " "), dashboardPath))
			}
		}
	}
	return p
}

// readDashboard reads and decodes a dashboard file.
func readDashboard(t *testing.T, path string) *dashboard {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := parseDashboard(raw)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func report(t *testing.T, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
}

// TestDashboardStructure checks that the dashboard is one well-formed JSON
// object Grafana imports: the DS_PROMETHEUS input and variable, titles and
// descriptions, datasources, ids and layout.
func TestDashboardStructure(t *testing.T) {
	report(t, structureProblems(readDashboard(t, dashboardLocal)))
}

// TestDashboardMetricsDefined checks that every gm_* metric a panel queries
// is defined in the code, with the suffixes its kind has.
func TestDashboardMetricsDefined(t *testing.T) {
	defs := codeMetrics(t)
	d := readDashboard(t, dashboardLocal)
	var p []string
	for _, prob := range metricProblems(d, defs) {
		if !strings.Contains(prob, "appears in no panel") {
			p = append(p, prob)
		}
	}
	report(t, p)
}

// TestDashboardCoversEveryMetric checks that every gm_* metric the code
// defines appears in at least one panel.
func TestDashboardCoversEveryMetric(t *testing.T) {
	defs := codeMetrics(t)
	d := readDashboard(t, dashboardLocal)
	var p []string
	for _, prob := range metricProblems(d, defs) {
		if strings.Contains(prob, "appears in no panel") {
			p = append(p, prob)
		}
	}
	report(t, p)
	names := make([]string, 0, len(defs))
	for n, def := range defs {
		names = append(names, n+" ("+def.kind+")")
	}
	sort.Strings(names)
	t.Logf("%d gm_* metrics in the code: %s", len(defs), strings.Join(names, ", "))
}

// TestDashboardLabels checks that queries group, filter and name series by
// labels their metrics have.
func TestDashboardLabels(t *testing.T) {
	report(t, labelProblems(readDashboard(t, dashboardLocal), codeMetrics(t)))
}

// TestDashboardChecksCatchDrift edits temporary copies of the dashboard and
// of the code's metrics and requires the checks above to notice: a renamed
// metric, a metric without a panel, a renamed label, a histogram queried
// without its suffix, a panel without title or datasource, broken JSON.
func TestDashboardChecksCatchDrift(t *testing.T) {
	defs := codeMetrics(t)
	raw, err := os.ReadFile(dashboardLocal)
	if err != nil {
		t.Fatal(err)
	}
	d, err := parseDashboard(raw)
	if err != nil {
		t.Fatal(err)
	}
	if p := append(metricProblems(d, defs), labelProblems(d, defs)...); len(p) > 0 {
		t.Skip("the dashboard does not match the code; see the other tests")
	}
	// The victim: a histogram the dashboard queries (suffixes and all), else
	// any metric.
	var victim, victimLabel string
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if victim == "" || defs[n].kind == "histogram" && defs[victim].kind != "histogram" {
			victim = n
		}
		if victimLabel == "" && defs[n].known && len(defs[n].labels) > 0 &&
			bytes.Contains(raw, []byte("by ("+defs[n].labels[0]+") (rate("+n)) {
			victimLabel = n
		}
	}
	edited := func(t *testing.T, b []byte) *dashboard {
		t.Helper()
		path := filepath.Join(t.TempDir(), dashboardFile)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return readDashboard(t, path)
	}
	mustFind := func(t *testing.T, problems []string, words ...string) {
		t.Helper()
		for _, p := range problems {
			ok := true
			for _, w := range words {
				ok = ok && strings.Contains(p, w)
			}
			if ok {
				return
			}
		}
		t.Errorf("no problem mentions all of %q; got:\n%s", words, strings.Join(problems, "\n"))
	}

	t.Run("renamed metric", func(t *testing.T) {
		renamed := "gm_renamed_" + strings.TrimPrefix(victim, "gm_")
		dd := edited(t, bytes.ReplaceAll(raw, []byte(victim), []byte(renamed)))
		p := metricProblems(dd, defs)
		mustFind(t, p, renamed, "no Go file defines", dashboardPath)
		mustFind(t, p, victim, "appears in no panel", dashboardPath)
	})
	t.Run("new metric without a panel", func(t *testing.T) {
		more := map[string]metricDef{"gm_brand_new_total": {name: "gm_brand_new_total", kind: "counter", known: true, pos: "pkg/x/x.go:1"}}
		for n, def := range defs {
			more[n] = def
		}
		mustFind(t, metricProblems(d, more), "gm_brand_new_total", "pkg/x/x.go:1", "appears in no panel", dashboardPath)
	})
	t.Run("renamed label", func(t *testing.T) {
		if victimLabel == "" {
			t.Skip("no `by (label) (rate(gm_...` query to edit")
		}
		l := defs[victimLabel].labels[0]
		dd := edited(t, bytes.ReplaceAll(raw, []byte("by ("+l+") (rate("+victimLabel), []byte("by (renamed_"+l+") (rate("+victimLabel)))
		mustFind(t, labelProblems(dd, defs), "renamed_"+l, victimLabel)
	})
	t.Run("histogram without suffix", func(t *testing.T) {
		if defs[victim].kind != "histogram" {
			t.Skip("no histogram in the code")
		}
		dd := edited(t, bytes.ReplaceAll(raw, []byte(victim+"_bucket"), []byte(victim)))
		mustFind(t, metricProblems(dd, defs), victim, "is a histogram")
	})
	t.Run("panel without title or datasource", func(t *testing.T) {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		for _, x := range m["panels"].([]any) {
			if pn := x.(map[string]any); pn["type"] != "row" {
				pn["title"] = ""
				pn["datasource"] = map[string]any{"type": "prometheus", "uid": "prometheus-prod"}
				break
			}
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		p := structureProblems(edited(t, b))
		mustFind(t, p, "has no title")
		mustFind(t, p, "datasource must be", "prometheus-prod")
	})
	t.Run("broken JSON", func(t *testing.T) {
		_, err := parseDashboard(raw[:len(raw)/2])
		if err == nil || !strings.Contains(err.Error(), "not valid JSON") {
			t.Errorf("half a dashboard parsed: %v", err)
		}
		_, err = parseDashboard(append(slices.Clone(raw), []byte("{}")...))
		if err == nil {
			t.Error("a dashboard followed by more JSON parsed")
		}
	})
}
