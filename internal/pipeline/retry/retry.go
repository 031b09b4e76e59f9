// Package retry holds what the project's API clients share to wait between
// attempts.
package retry

import (
	"context"
	"time"
)

// Sleep waits d, or less when ctx ends first, in which case it returns
// ctx's error. A non-positive d only checks ctx.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
