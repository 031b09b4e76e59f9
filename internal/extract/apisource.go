package extract

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/segmentio/encoding/json"
)

// GigyaSettings configure the accounts.search source (extractor.gigya).
type GigyaSettings = stage.GigyaSettings

// SiteSettings are one Gigya site's credentials (extractor.gigya.sites[]).
type SiteSettings = stage.SiteSettings

func defaultGigya() GigyaSettings {
	return GigyaSettings{PageSize: 1000, Rate: 10, Timeout: 30 * time.Second, Retries: 20, Overlap: 5 * time.Minute,
		CursorIdle: 4 * time.Minute, FollowEvery: time.Minute}
}

func validateGigya(g GigyaSettings, p *config.Problems) {
	p.Check(len(g.Sites) > 0, "extractor.gigya.sites", "at least one site is required for the gigya-api source")
	names := map[string]bool{}
	for i, s := range g.Sites {
		key := fmt.Sprintf("extractor.gigya.sites[%d]", i)
		p.Check(config.SubjectToken(s.Name), key+".name", "must be a site name without '.', '*', '>' or spaces")
		p.Check(!names[s.Name], key+".name", "is used twice")
		names[s.Name] = true
		p.Check(s.APIKey != "", key+".api_key", "is required")
		p.Check(s.Secret != "" || s.PrivateKeyFile != "", key+".secret", "a secret or a private_key_file is required")
		// Checked here, not only by the client, so that the problem names
		// the keys to change and the line they are on.
		if s.BaseURL != "" {
			if _, err := gigya.CheckBaseURL(s.BaseURL, s.AllowHTTP); errors.Is(err, gigya.ErrPlainHTTP) {
				p.Addf(key+".base_url", "is plain http://, and Gigya refuses secrets sent over HTTP (403006): use https://, or set %s.allow_http: true only for a local simulator", key)
			} else if err != nil {
				p.Addf(key+".base_url", "%v", err)
			}
		} else if _, err := gigya.DataCenterDomain(s.DataCenter); err != nil {
			p.Addf(key+".data_center", "%v", err)
		}
	}
	p.Check(g.PageSize >= 1 && g.PageSize <= 10000, "extractor.gigya.page_size", "must be between 1 and 10000")
	p.Check(g.Rate > 0, "extractor.gigya.rate", "must be positive")
	p.Check(g.Timeout > 0, "extractor.gigya.timeout", "must be positive")
	p.Check(g.Retries >= 1, "extractor.gigya.retries", "must be at least 1")
	p.Check(g.Overlap >= 0, "extractor.gigya.overlap", "must not be negative")
	p.Check(g.CursorIdle > 0 && g.CursorIdle < 5*time.Minute, "extractor.gigya.cursor_idle", "must be positive and under Gigya's 5 minutes")
	p.Check(g.FollowEvery > 0, "extractor.gigya.follow_every", "must be positive")
}

// Sync modes of the API source, set by flags.
type syncMode struct {
	since       time.Time // -since: from this time
	incremental bool      // -incremental: from the last checkpoint minus the overlap
	follow      bool      // -follow: keep searching for changes until stopped
}

// apiPosition is the API source's checkpoint: every account with
// lastUpdatedTimestamp below Watermark is stored, and so are the accounts
// listed in Seen ("UID:ts", those within the overlap window before it), so a
// resumed or incremental search skips them instead of publishing them again.
type apiPosition struct {
	Watermark int64    `json:"watermark"`
	Seen      []string `json:"seen,omitempty"`
}

// maxSeen bounds the overlap window kept in a checkpoint (a KV value must
// stay small). Past it, re-reads are left to the Nats-Msg-Id duplicate check.
const maxSeen = 20000

type apiSource struct {
	site   SiteSettings
	cfg    GigyaSettings
	mode   syncMode
	client searcher
	log    *slog.Logger
	now    func() time.Time
}

// searcher is the part of the Gigya client the source uses.
type searcher interface {
	Search(ctx context.Context, query, accountTypes string) (gigya.Page, error)
	SearchNext(ctx context.Context, cursorID string) (gigya.Page, error)
}

// newAPISource builds the source of one site; key is its place in the
// configuration (extractor.gigya.sites[i]), which its errors name.
func newAPISource(key string, site SiteSettings, cfg GigyaSettings, opts SourceOptions) (*apiSource, error) {
	log := opts.Log.With("site", site.Name)
	client, err := newGigyaClient(key, site, gigya.Config{Timeout: cfg.Timeout, Rate: cfg.Rate, MaxRetries: cfg.Retries, Logger: log, Observe: opts.ObserveGigya})
	if err != nil {
		return nil, err
	}
	return &apiSource{site: site, cfg: cfg, mode: opts.Mode, client: client, log: log, now: time.Now}, nil
}

// newGigyaClient builds a client of site with the timing, logger and
// observer of tune; key is the site's place in the configuration
// (extractor.gigya.sites[i]), which its errors name.
func newGigyaClient(key string, site SiteSettings, tune gigya.Config) (*gigya.Client, error) {
	gc := tune
	gc.DataCenter, gc.BaseURL, gc.AllowHTTP = site.DataCenter, site.BaseURL, site.AllowHTTP
	gc.APIKey, gc.UserKey, gc.Secret = site.APIKey, site.UserKey, site.Secret
	if site.PrivateKeyFile != "" {
		pem, err := os.ReadFile(site.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s.private_key_file: %w", key, err)
		}
		gc.PrivateKeyPEM = pem
	}
	client, err := gigya.NewClient(gc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return client, nil
}

// Identity keys the checkpoint: the site and what is searched, not how
// (page size, rate and sync flags may change between runs).
func (a *apiSource) Identity() string {
	return "gigya-api:" + a.site.Name + ":" + a.site.APIKey + ":" + a.accountTypes() + ":" + a.cfg.Where
}

func (a *apiSource) accountTypes() string {
	if a.cfg.LiteAccounts {
		return "full,lite"
	}
	return "full"
}

// window tracks the stored accounts near the watermark.
type window struct {
	watermark int64
	seen      map[string]int64 // "UID:ts" -> ts
	overlap   int64
}

func (w *window) add(key string, ts int64) {
	if ts > w.watermark {
		w.watermark = ts
	}
	w.seen[key] = ts
}

func (w *window) position() apiPosition {
	floor := w.watermark - w.overlap
	p := apiPosition{Watermark: w.watermark}
	for k, ts := range w.seen {
		if ts < floor {
			delete(w.seen, k)
			continue
		}
		p.Seen = append(p.Seen, k)
	}
	slices.Sort(p.Seen)
	if len(p.Seen) > maxSeen {
		// Keep the newest: the entries at the watermark matter most.
		p.Seen = p.Seen[len(p.Seen)-maxSeen:]
	}
	return p
}

func (a *apiSource) Read(ctx context.Context, from Checkpoint, emit func(Item) error) error {
	w := &window{seen: map[string]int64{}, overlap: a.cfg.Overlap.Milliseconds()}
	lower := int64(-1) // no lower bound: a full extraction
	var prev apiPosition
	if from.State != nil {
		if err := json.Unmarshal(from.State, &prev); err != nil {
			return fmt.Errorf("checkpoint: %w (use -restart)", err)
		}
	}
	switch {
	case !a.mode.since.IsZero():
		lower = a.mode.since.UnixMilli()
	case from.State != nil && !from.Complete:
		lower = prev.Watermark // resume the interrupted run where it stopped
	case from.State != nil && (a.mode.incremental || a.mode.follow):
		lower = prev.Watermark - w.overlap
	case a.mode.incremental:
		return errors.New("-incremental needs the checkpoint of an earlier run; run once without it, or use -since")
	}
	if lower >= 0 {
		w.watermark = prev.Watermark
		for _, k := range prev.Seen {
			if i := strings.LastIndexByte(k, ':'); i > 0 {
				ts, _ := strconv.ParseInt(k[i+1:], 10, 64)
				w.seen[k] = ts
			}
		}
	}
	for {
		if err := a.searchFrom(ctx, lower, w, emit); err != nil {
			return err
		}
		if !a.mode.follow {
			return nil
		}
		a.log.Info("caught up; waiting for changes", "site", a.site.Name, "watermark", time.UnixMilli(w.watermark).UTC(), "next_search_in", a.cfg.FollowEvery)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(a.cfg.FollowEvery):
		}
		lower = w.watermark - w.overlap
	}
}

// searchFrom runs one search from lower (or everything when lower < 0) to
// its end, restarting from the watermark when the cursor is lost.
func (a *apiSource) searchFrom(ctx context.Context, lower int64, w *window, emit func(Item) error) error {
	fields := a.cfg.Fields
	if len(fields) == 0 {
		fields = gigya.DefaultFields()
	}
	query := func(lower int64) string {
		var conds []string
		if a.cfg.Where != "" {
			conds = append(conds, "("+a.cfg.Where+")")
		}
		if lower >= 0 {
			conds = append(conds, "lastUpdatedTimestamp >= "+strconv.FormatInt(lower, 10))
		}
		return gigya.BuildQuery(fields, "accounts", strings.Join(conds, " AND "), a.cfg.PageSize)
	}
	pageNo := 0
	page, err := a.client.Search(ctx, query(lower), a.accountTypes())
	lastCall := a.now()
	for {
		if err != nil {
			return fmt.Errorf("accounts.search: %w", err)
		}
		pageNo++
		if err := a.emitPage(page, pageNo, w, emit); err != nil {
			return err
		}
		if page.Done() {
			return nil
		}
		restart := ""
		if idle := a.now().Sub(lastCall); idle > a.cfg.CursorIdle {
			restart = fmt.Sprintf("the cursor was idle %v", idle.Round(time.Second))
		} else {
			page, err = a.client.SearchNext(ctx, page.NextCursorID)
			lastCall = a.now()
			if errors.Is(err, gigya.ErrCursorExpired) {
				restart = "Gigya expired the cursor"
			}
		}
		if restart != "" {
			// Everything up to the watermark is stored (or in flight and
			// tracked in the window): search again from there.
			a.log.Warn(restart+"; restarting the search from the watermark", "site", a.site.Name, "watermark", w.watermark)
			page, err = a.client.Search(ctx, query(w.watermark), a.accountTypes())
			lastCall = a.now()
		}
	}
}

// emitPage emits one page; its last item carries the position after it.
func (a *apiSource) emitPage(page gigya.Page, pageNo int, w *window, emit func(Item) error) error {
	for i, raw := range page.Results {
		it := Item{Data: raw, Origin: Origin{Input: "accounts.search " + a.site.Name + " page " + strconv.Itoa(pageNo), Offset: int64(i)}}
		key, err := gigya.Identify(raw)
		if err == nil {
			ts, _ := strconv.ParseInt(key.LastUpdated, 10, 64)
			id := key.UID + ":" + key.LastUpdated
			if _, stored := w.seen[id]; stored {
				it = Item{Resumed: true}
			} else {
				w.add(id, ts)
			}
		}
		if i == len(page.Results)-1 {
			it.Position = w.position()
		}
		if err := emit(it); err != nil {
			return err
		}
	}
	return nil
}
