package gigya

import (
	"fmt"
	"sort"
	"strings"
)

// DefaultDataCenter is the data center used when Config.DataCenter is empty.
const DefaultDataCenter = "us1"

// dataCenters maps a data-center name to the API domain that follows the
// "<namespace>." prefix of every host (docs/apis/gigya.md, "Data centers
// and hosts").
//
// cn1 is UNCONFIRMED: the older SAP/Gigya pages and the npm "gigya" SDK use
// cn1.gigya-api.cn, the newer TypeScript SDK list uses cn1.sapcdm.cn. We
// follow the newer list; a tenant that still lives on the old host can set
// Config.DataCenter to the domain itself ("cn1.gigya-api.cn"). Whether ru1 is
// still in service and how global.gigya.com behaves for Global Access sites
// are UNCONFIRMED as well. eu2 appears only in the newer list.
var dataCenters = map[string]string{
	"us1":    "us1.gigya.com",
	"eu1":    "eu1.gigya.com",
	"eu2":    "eu2.gigya.com",
	"au1":    "au1.gigya.com",
	"ru1":    "ru1.gigya.com",
	"cn1":    "cn1.sapcdm.cn",
	"global": "global.gigya.com",
}

// gigyaDomainSuffixes are the registrable domains Gigya's API hosts live
// under. A 301001 "invalid data center" answer is only followed to a domain
// under one of these: the answer names the host the client sends its secret
// to next.
var gigyaDomainSuffixes = []string{".gigya.com", ".gigya-api.cn", ".sapcdm.cn"}

// DataCenterDomain returns the API domain of a data center: "eu1" gives
// "eu1.gigya.com". The name is case-insensitive and empty means us1. A value
// that already is a domain ("cn1.gigya-api.cn") is returned as is, so that a
// tenant on a host this package does not know can still be reached.
func DataCenterDomain(dc string) (string, error) {
	dc = strings.ToLower(strings.TrimSpace(dc))
	if dc == "" {
		dc = DefaultDataCenter
	}
	if d, ok := dataCenters[dc]; ok {
		return d, nil
	}
	if strings.Contains(dc, ".") && validHostname(dc) {
		return dc, nil
	}
	names := make([]string, 0, len(dataCenters))
	for n := range dataCenters {
		names = append(names, n)
	}
	sort.Strings(names)
	return "", fmt.Errorf("unknown data center %q (known: %s, or an API domain such as eu1.gigya.com)", dc, strings.Join(names, ", "))
}

// defaultNamespaceBase is where namespace's methods live on domain:
// "accounts", "eu1.gigya.com" gives "https://accounts.eu1.gigya.com".
func defaultNamespaceBase(namespace, domain string) string {
	return "https://" + namespace + "." + domain
}

// trustedAPIDomain reports whether a domain named by Gigya in a 301001
// answer may be followed.
func trustedAPIDomain(d string) bool {
	if !validHostname(d) {
		return false
	}
	for _, s := range gigyaDomainSuffixes {
		if strings.HasSuffix(d, s) {
			return true
		}
	}
	return false
}

// validHostname accepts lower-case DNS names: labels of letters, digits and
// hyphens separated by dots, no port, no path, no user info.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
