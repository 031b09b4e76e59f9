package mapfunc

import (
	"testing"

	"github.com/expr-lang/expr/vm"
)

// The benchmarks call the helpers directly (their own cost) and, for
// gigya_time, through a compiled program the way the engine runs it.

func BenchmarkGigyaTime(b *testing.B) {
	for _, bc := range []struct {
		name string
		in   any
	}{
		{"iso", "2019-03-14T09:26:53.589Z"},
		{"offset", "2019-03-14T10:26:53+01:00"},
		{"epoch_ms", int64(1552555613589)},
		{"epoch_s_string", "1700000000"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := gigyaTime(bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("expr", func(b *testing.B) {
		prog := compile(b, `gigya_time(created)`)
		env := map[string]any{"created": "2019-03-14T09:26:53.589Z"}
		var machine vm.VM
		b.ReportAllocs()
		for b.Loop() {
			if _, err := machine.Run(prog, env); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEmail(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"canonical", "jane.doe@example.com"},
		{"mixed_case", "  Jane.Doe@Example.COM "},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := email(bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPhoneE164(b *testing.B) {
	for _, bc := range []struct{ name, in, cc string }{
		{"e164", "+4915112345678", ""},
		{"formatted", "+49 (0)151 1234-5678", ""},
		{"national", "(0151) 1234-5678", "49"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := phoneE164(bc.in, bc.cc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
