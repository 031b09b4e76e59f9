package login

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
)

// publish stores the account of a user migrated at login in GIGYA_ACCOUNTS,
// marked Etl-Login-Migrated, and waits for its PubAck: the loaders learn
// from it that the target holds the user (and never write a bulk version
// over it), and the balance counts it. The account is what Gigya's login
// answered, without the session: it carries no password field (Login asks
// for none), and the typed password never goes near it.
func (s *Service) publish(ctx context.Context, acc json.RawMessage) error {
	key, err := gigya.Identify(acc)
	if err != nil {
		s.publishFailed.Add(1)
		s.metrics.published.WithLabelValues("failed").Inc()
		return fmt.Errorf("the account Gigya answered has no UID: %w", err)
	}
	m := nats.NewMsg(message.RawSubject(s.site))
	m.Data = acc
	m.Header.Set(message.HdrMsgID, message.LoginMsgID(s.site, key.UID, key.LastUpdated))
	m.Header.Set(message.HdrUID, key.UID)
	m.Header.Set(message.HdrSite, s.site)
	m.Header.Set(message.HdrLastUpdated, key.LastUpdated)
	m.Header.Set(message.HdrRun, s.run)
	m.Header.Set(message.HdrLoginMigrated, s.target)
	if !message.Fits(m.Data, m.Header, s.maxPay) {
		s.publishFailed.Add(1)
		s.metrics.published.WithLabelValues("failed").Inc()
		return fmt.Errorf("the account of %s is %d bytes, more than the NATS server's max_payload", key.UID, len(acc))
	}
	ack, err := s.pub.PublishMsg(ctx, m)
	if err != nil {
		s.publishFailed.Add(1)
		s.metrics.published.WithLabelValues("failed").Inc()
		return fmt.Errorf("publish the account of %s: %w", key.UID, err)
	}
	if ack.Duplicate {
		s.duplicates.Add(1)
		s.metrics.published.WithLabelValues("duplicate").Inc()
	} else {
		s.published.Add(1)
		s.metrics.published.WithLabelValues("published").Inc()
	}
	return nil
}

// uidOf is the account's UID, for logs ("" when it has none).
func uidOf(acc json.RawMessage) string {
	k, err := gigya.Identify(acc)
	if err != nil {
		return ""
	}
	return k.UID
}
