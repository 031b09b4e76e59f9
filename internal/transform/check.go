package transform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/internal/gigya/filesource"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/segmentio/encoding/json"
)

const checkUsage = `transformer check maps Gigya accounts from export files without NATS, to test
a mapping: mapped users go to stdout as JSON lines, every rejected record and its
reason to stderr. It exits 3 if any record was rejected.

Usage:
  transformer check [-mapping FILE] [-explain] [-input FILE|DIR]... [FILE|DIR ...]

Flags:
`

// CheckTotals are the counts of a check run.
type CheckTotals struct {
	Read     int `json:"read"`
	Mapped   int `json:"mapped"` // records that produced users
	Users    int `json:"users"`  // users written (more than Mapped with explode)
	Rejected int `json:"rejected"`
	Skipped  int `json:"skipped"`
	Flagged  int `json:"flagged"`
}

func runCheck(ctx context.Context, env stage.Env) error {
	fs, _ := stage.Flags("transformer check", checkUsage, env)
	mappingPath := fs.String("mapping", "", "mapping YAML file (default: the embedded configs/auth0.yaml)")
	explain := fs.Bool("explain", false, "show, per record and output field, the expression, its value and what became of it (on stderr)")
	var inputs listFlag
	fs.Var(&inputs, "input", "a Gigya export file or directory (repeatable; arguments are inputs too)")
	if err := stage.ParseFlags(fs, env.Args[1:], true); err != nil {
		return err
	}
	inputs = append(inputs, fs.Args()...)
	if len(inputs) == 0 {
		return stage.Usage(errors.New("no input: pass Gigya export files or directories (-input or arguments)"))
	}
	m, err := loadMapping(*mappingPath)
	if err != nil {
		return stage.Usage(err)
	}
	validator, err := validatorFor(m)
	if err != nil {
		return stage.Usage(err)
	}
	files, err := filesource.Expand(inputs)
	if err != nil {
		return stage.Usage(err)
	}
	rm := &recordMapper{ev: m.NewEvaluator().WithValidator(validator)}
	c := &checkRun{rm: rm, out: env.Stdout, errw: env.Stderr, explain: *explain}
	readErr := filesource.Read(ctx, files, c.record)
	tot := c.totals
	fmt.Fprintf(env.Stderr, "check %s (version %s): read %d, mapped %d (%d users), rejected %d, skipped %d, flagged %d\n",
		m.Name(), m.Version(), tot.Read, tot.Mapped, tot.Users, tot.Rejected, tot.Skipped, tot.Flagged)
	if readErr != nil {
		return readErr
	}
	if tot.Rejected > 0 {
		return fmt.Errorf("%w: %d of %d records rejected", stage.ErrDeadLetters, tot.Rejected, tot.Read)
	}
	return nil
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

type checkRun struct {
	rm      *recordMapper
	out     io.Writer
	errw    io.Writer
	explain bool
	totals  CheckTotals
}

func (c *checkRun) record(r filesource.Record) error {
	c.totals.Read++
	where := r.Origin.String()
	if r.Err != nil {
		c.reject(where, "", filesource.Code(r.Err), r.Err)
		return nil
	}
	key, err := gigya.Identify(r.Data)
	if err != nil {
		code := "invalid_json"
		if errors.Is(err, gigya.ErrNoUID) {
			code = "no_uid"
		}
		c.reject(where, "", code, err)
		return nil
	}
	if c.explain {
		c.explainRecord(where, key.UID, r.Data)
	}
	rec, err := c.rm.mapRecord(r.Data)
	switch {
	case err != nil:
		_, code := fault.Classify(err)
		c.reject(where, key.UID, code, err)
		return nil
	case rec.Skip != "":
		c.totals.Skipped++
		fmt.Fprintf(c.errw, "SKIPPED  %s uid=%s filter=%s\n", where, key.UID, rec.Skip)
		return nil
	}
	for _, n := range rec.Notes {
		c.totals.Flagged++
		fmt.Fprintf(c.errw, "FLAGGED  %s uid=%s field=%s flag=%s: %s\n", where, key.UID, n.Field, n.Flag, cause(n.Err))
	}
	for _, w := range rec.Warnings {
		fmt.Fprintf(c.errw, "WARNING  %s uid=%s: %s\n", where, key.UID, w)
	}
	c.totals.Mapped++
	for _, u := range rec.Outputs {
		c.totals.Users++
		if _, err := c.out.Write(append(u, '\n')); err != nil {
			return err
		}
	}
	return nil
}

func (c *checkRun) reject(where, uid, code string, err error) {
	c.totals.Rejected++
	fmt.Fprintf(c.errw, "REJECTED %s uid=%s code=%s: %s\n", where, uid, code, oneLine(err))
}

func (c *checkRun) explainRecord(where, uid string, data []byte) {
	steps, skip, _ := c.rm.ev.ExplainJSON(data)
	fmt.Fprintf(c.errw, "EXPLAIN  %s uid=%s\n", where, uid)
	if skip != "" {
		fmt.Fprintf(c.errw, "  skipped by %s\n", skip)
	}
	for i, out := range steps {
		if len(steps) > 1 {
			fmt.Fprintf(c.errw, "  output %d:\n", i+1)
		}
		for _, s := range out {
			v, _ := json.Marshal(s.Value)
			line := fmt.Sprintf("  %-28s %-8s %s", s.Field, s.Outcome, v)
			if s.Err != nil {
				line = fmt.Sprintf("  %-28s %-8s error: %s", s.Field, s.Outcome, oneLine(s.Err))
			}
			fmt.Fprintf(c.errw, "%s\n      <- %s\n", line, oneLine(errors.New(s.Expr)))
		}
	}
}

// cause is the reason a helper gave, without expr's source excerpt: the
// coded error when there is one.
func cause(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return oneLine(fe.Err)
	}
	return oneLine(err)
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// validatorFor returns the target validator the mapping asks for
// (`validate:`, by default the target's own when one exists), nil when it
// asks for none. A validator is safe for concurrent use.
func validatorFor(m *mapping.Mapping) (validate.Validator, error) {
	name, repairs := m.Validator()
	builtin := validate.Builtin()
	switch {
	case name == "none":
		return nil, nil
	case name == "":
		if _, ok := builtin[m.Target()]; !ok {
			return nil, nil // a target without a validator: nothing to check against
		}
		name = m.Target()
	}
	factory, ok := builtin[name]
	if !ok {
		return nil, fmt.Errorf("mapping %s: validate: unknown validator %q (known: %s, or none)", m.Name(), name, config.Names(builtin))
	}
	opts, err := validate.ParseRepairs(repairs)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: repair: %w", m.Name(), err)
	}
	return factory(opts), nil
}
