package harness

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// TransformerTotals is the part of a transformer's summary the tests read.
type TransformerTotals struct {
	Consumed     int64 `json:"consumed"`
	Mapped       int64 `json:"mapped"`
	Duplicates   int64 `json:"duplicates"`
	Filtered     int64 `json:"filtered"`
	DeadLettered int64 `json:"dead_lettered"`
}

// ProcStatusKiB reads a memory field (VmRSS, VmHWM...) of
// /proc/<pid>/status, in KiB.
func ProcStatusKiB(pid int, field string) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, fmt.Errorf("no %s for pid %d", field, pid)
}
