package login

import (
	"errors"
	"fmt"
	"sync"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

// mapper maps accounts the way the transformer does: the same mapping
// (login.mapping, which should be transformer.mapping), then the target's
// validator with the mapping's repairs, so that a user migrated at login
// gets the profile the bulk load would give the same account. Evaluators
// are not safe for concurrent use: requests take one from a pool.
type mapper struct {
	m    *mapping.Mapping
	pool sync.Pool // *evaluator
}

type evaluator struct {
	ev *mapping.Evaluator
	v  validate.Validator // nil: no validation
}

// newMapper prepares m and its validator, as `transformer` does
// (internal/transform, checkerFor).
func newMapper(m *mapping.Mapping) (*mapper, error) {
	if m.Explode() != "" {
		return nil, fmt.Errorf("mapping %s explodes %s into several users: a login migrates one user", m.Name(), m.Explode())
	}
	name, repairs := m.Validator()
	builtin := validate.Builtin()
	if name == "" {
		if _, ok := builtin[m.Target()]; ok {
			name = m.Target()
		}
	}
	var factory func(validate.Options) validate.Validator
	if name != "" && name != "none" {
		f, ok := builtin[name]
		if !ok {
			return nil, fmt.Errorf("mapping %s: validate: unknown validator %q", m.Name(), name)
		}
		factory = f
	}
	opts, err := validate.ParseRepairs(repairs)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: repair: %w", m.Name(), err)
	}
	mp := &mapper{m: m}
	mp.pool.New = func() any {
		e := &evaluator{ev: m.NewEvaluator()}
		if factory != nil {
			e.v = factory(opts)
		}
		return e
	}
	return mp, nil
}

// Errors of mapAccount, by code.
var (
	// errFiltered: a filter of the mapping skips the account.
	errFiltered = errors.New("a filter of the mapping skips the account")
)

// mapAccount maps one account to the target's user. Its errors are
// permanent and coded like the transformer's dead letters
// (mapping_failed, required_missing, schema_violation, ...), or
// "filtered" with the filter's name in the text.
func (mp *mapper) mapAccount(account []byte) (map[string]any, error) {
	e := mp.pool.Get().(*evaluator)
	defer mp.pool.Put(e)
	r, err := e.ev.MapJSON(account)
	if err != nil {
		return nil, fault.Permanent(mapping.ErrorCode(err), err)
	}
	if r.Skip != "" {
		return nil, fault.Permanent("filtered", fmt.Errorf("%w: %s", errFiltered, r.Skip))
	}
	user := r.Outputs[0]
	if e.v != nil {
		if err := e.v.Validate(user).Err(); err != nil {
			return nil, err
		}
	}
	return user, nil
}
