package gigyasim

import (
	"strings"

	"github.com/segmentio/encoding/json"
)

// project returns the account raw reduced to the selected paths (UID always
// included). A path names a top-level key ("profile": the whole subtree) or
// a dotted path ("profile.email" → {"profile":{"email":...}}). A path through
// an array keeps, for each element, the remainder of the path
// ("identities.provider" → {"identities":[{"provider":...},...]}). Missing
// paths are left out.
func project(raw []byte, paths []string) ([]byte, error) {
	src, err := decodeAccount(raw)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if uid, ok := src["UID"]; ok {
		out["UID"] = uid
	}
	for _, p := range paths {
		parts := strings.Split(p, ".")
		v, ok := src[parts[0]]
		if !ok {
			continue
		}
		sub, ok := pick(v, parts[1:])
		if !ok {
			continue
		}
		out[parts[0]] = merge(out[parts[0]], sub)
	}
	return json.Marshal(out)
}

// pick returns the part of v reached by parts.
func pick(v any, parts []string) (any, bool) {
	if len(parts) == 0 {
		return v, true
	}
	switch x := v.(type) {
	case map[string]any:
		child, ok := x[parts[0]]
		if !ok {
			return nil, false
		}
		sub, ok := pick(child, parts[1:])
		if !ok {
			return nil, false
		}
		return map[string]any{parts[0]: sub}, true
	case []any:
		// Elements keep their positions (an element without the path
		// becomes {}), so that two paths into the same array merge
		// element by element.
		res := make([]any, len(x))
		found := false
		for i, el := range x {
			if sub, ok := pick(el, parts); ok {
				res[i], found = sub, true
			} else {
				res[i] = map[string]any{}
			}
		}
		if !found {
			return nil, false
		}
		return res, true
	}
	return nil, false
}

// merge combines two projections of the same source value.
func merge(a, b any) any {
	if a == nil {
		return b
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		res := make(map[string]any, len(am)+len(bm))
		for k, v := range am {
			res[k] = v
		}
		for k, v := range bm {
			res[k] = merge(res[k], v)
		}
		return res
	}
	aa, aok := a.([]any)
	ba, bok := b.([]any)
	if aok && bok && len(aa) == len(ba) {
		res := make([]any, len(aa))
		for i := range aa {
			res[i] = merge(aa[i], ba[i])
		}
		return res
	}
	// Scalars: both sides hold the same source value.
	return a
}
