// Package provisioner applies identity lifecycle events, delivered by
// EventBridge through SQS, to the store: it records identities, attaches
// the configuration their org's policy calls for (package orgdefaults),
// keeps their permissions, and cleans up on delete.
//
// A batch's new identities are written together, in one transaction;
// its updates and deletes concurrently, within a bound. Events for one
// identity converge in any order and any number of deliveries: each is a
// conditional write that does nothing when it has nothing to do.
package provisioner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/uauth/uauth/pkg/audit"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/metrics"
	"github.com/uauth/uauth/pkg/orgdefaults"
	"github.com/uauth/uauth/pkg/strictjson"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// Actor is who the provisioner's changes are recorded as.
const Actor = "provisioner"

// EventBridge detail-types the provisioner handles.
const (
	IdentityCreated = "Identity Created"
	IdentityUpdated = "Identity Updated"
	IdentityDeleted = "Identity Deleted"
)

// Store is what the provisioner needs from storage.
type Store interface {
	// RecordIdentities writes new identities, ids[i] with configs[i]
	// attached unless it is nil, each atomically, and together where it
	// can. A known identity is left as it is, and its error says why:
	// identity.ErrExists, ErrDeleted, or ErrOrgMismatch.
	RecordIdentities(ctx context.Context, ids []identity.Identity, configs []*uaconfig.Config, actor string) []error
	// SetPermissions replaces a recorded identity's permissions, unless a
	// version at least as new is already applied (identity.ErrStale). An
	// identity not recorded yet is identity.ErrNotRecorded.
	SetPermissions(ctx context.Context, id identity.Identity) error
	// DeleteIdentity replaces the identity and everything hanging off it
	// with a tombstone that expires at expiresAt.
	DeleteIdentity(ctx context.Context, identityID, orgID string, deletedAt, expiresAt time.Time, actor string) error
}

// Detail is the "detail" of an identity event.
type Detail struct {
	IdentityID string `json:"identityId"`
	OrgID      string `json:"orgId"`
	Name       string `json:"name"`
	// Permissions are what the identity's own access tokens may do; Identity
	// Updated replaces them.
	Permissions []string `json:"permissions"`
	// UniversalAuth, on Identity Created, overrides the org's defaults: an
	// object of attach fields, or false to attach nothing.
	UniversalAuth jsontext.Value `json:"universalAuth"`
}

// Limits on an event's permissions: a list of short permission strings.
const (
	maxPermissions      = 64
	maxPermissionLength = 128
)

// DefaultConcurrency bounds the updates and deletes of a batch in flight
// at once: a full SQS batch of 10 at once.
const DefaultConcurrency = 10

// AnswerMargin is the time kept, before the invocation's deadline, to
// answer the batch.
const AnswerMargin = 500 * time.Millisecond

// Handler consumes SQS batches of identity events.
type Handler struct {
	Store    Store
	Defaults *orgdefaults.Service
	// TombstoneTTL is how long a deleted identity stays deleted.
	TombstoneTTL time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
	// Concurrency bounds the updates and deletes in flight; 0 means
	// DefaultConcurrency. A batch's creates are written together.
	Concurrency int
	// Reserve is the time a record needs: one is not started when the
	// invocation has less left, so that the batch answers before the
	// function times out, and the record is redelivered instead.
	Reserve time.Duration
	// Metrics receives each batch's metrics (ProvisionerRecords by
	// outcome) as EMF (stdout in Lambda); nil writes none.
	Metrics io.Writer
	// Audit receives the audit records of configurations attached; nil
	// writes none.
	Audit *audit.Writer
}

// errPoison marks a record that can never succeed, as opposed to a
// transient failure. Both are reported for redelivery, so that SQS moves a
// poison record to the DLQ (and its alarm) after maxReceiveCount tries.
var errPoison = errors.New("poison record")

// errNoTime is a record not started because the invocation ran short.
var errNoTime = errors.New("not started: the invocation is about to time out")

// record is one SQS message on its way through a batch.
type record struct {
	msg    events.SQSMessage
	log    *slog.Logger // with the event's fields, once decoded
	ev     events.EventBridgeEvent
	detail Detail
	id     identity.Identity
	at     time.Time // when the event happened
	err    error     // why it failed, reported for redelivery
	known  bool      // it was ignored: applied already, or older than what is
}

// Handle processes every record and reports the failed ones in
// BatchItemFailures; the others are deleted from the queue. It never fails
// the batch as a whole.
//
// A batch's Identity Created events normally cost two requests whatever
// their number: one BatchGetItem for their orgs' defaults and one
// TransactWriteItems that records them all (Store.RecordIdentities). Each
// update and delete is its own request, concurrently within a bound.
//
// The work stops AnswerMargin before the invocation's deadline: a call
// still running then fails, and its record is reported for redelivery,
// rather than the function timing out and the whole batch coming back.
func (h *Handler) Handle(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	m := metrics.Get("provisioner")
	defer func() {
		if h.Metrics != nil {
			_ = m.Flush(h.Metrics, time.Now())
		}
		metrics.Put(m)
	}()
	ctx = metrics.NewContext(ctx, m)
	if h.Audit != nil {
		ctx = audit.NewContext(ctx, &audit.Request{Writer: h.Audit, Actor: Actor})
	}
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-AnswerMargin))
		defer cancel()
	}
	recs := make([]record, len(batch.Records))
	var creates, changes []*record
	for i, msg := range batch.Records {
		r := &recs[i]
		r.msg = msg
		r.log = h.Logger.With(slog.String("messageId", msg.MessageId))
		if !h.hasTime(ctx) {
			r.err = errNoTime
			continue
		}
		switch r.err = h.decode(r); {
		case r.err != nil:
		case r.ev.DetailType == IdentityCreated:
			creates = append(creates, r)
		default:
			changes = append(changes, r)
		}
	}

	n := h.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	wg.Go(func() { h.create(ctx, creates) })
	for _, r := range changes {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if !h.hasTime(ctx) {
				r.err = errNoTime
				return
			}
			r.err = h.change(ctx, r)
		})
	}
	wg.Wait()

	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i := range recs {
		r := &recs[i]
		switch {
		case r.err == nil && r.known:
			m.Count(metrics.ProvisionerRecords, "known")
		case r.err == nil:
			m.Count(metrics.ProvisionerRecords, "recorded")
		case errors.Is(r.err, errPoison):
			m.Count(metrics.ProvisionerRecords, "poison")
		default:
			m.Count(metrics.ProvisionerRecords, "retried")
		}
		if r.err == nil {
			continue
		}
		level, msg := slog.LevelWarn, "record failed, will be retried"
		if errors.Is(r.err, errPoison) {
			level, msg = slog.LevelError, "poison record"
		}
		r.log.Log(ctx, level, msg, slog.String("error", r.err.Error()))
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.msg.MessageId})
	}
	return resp, nil
}

func (h *Handler) hasTime(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > h.Reserve
}

// decode reads a record's event, and adds its fields to the record's log.
func (h *Handler) decode(r *record) error {
	ev, d, err := Decode([]byte(r.msg.Body))
	if err != nil {
		return fmt.Errorf("%w: %w", errPoison, err)
	}
	r.ev, r.detail = ev, d
	r.log = r.log.With(slog.String("eventId", ev.ID), slog.String("detailType", ev.DetailType),
		slog.String("identityId", d.IdentityID), slog.String("orgId", d.OrgID))
	at := ev.Time.UTC()
	if at.IsZero() {
		at = h.now()
	}
	r.at = at
	r.id = identity.Identity{ID: d.IdentityID, OrgID: d.OrgID, Name: d.Name, Permissions: d.Permissions,
		PermissionsVersion: PermissionsVersion(ev), CreatedAt: at}
	return nil
}

// create records the batch's new identities, each with the configuration
// its org's policy or its own override calls for.
func (h *Handler) create(ctx context.Context, recs []*record) {
	if len(recs) == 0 {
		return
	}
	orgs := make([]string, len(recs)) // repeats are read once
	for i, r := range recs {
		orgs[i] = r.id.OrgID
	}
	defaults, bad, err := h.Defaults.GetBatch(ctx, orgs)
	if err != nil {
		for _, r := range recs {
			r.err = err
		}
		return
	}
	var (
		todo    []*record
		ids     []identity.Identity
		configs []*uaconfig.Config
		why     []string
	)
	for _, r := range recs {
		if err := bad[r.id.OrgID]; err != nil { // that org's only
			r.err = err
			continue
		}
		choice, err := orgdefaults.Choose(defaults[r.id.OrgID], r.id.ID, r.detail.UniversalAuth)
		if err != nil {
			r.err = fmt.Errorf("%w: detail.universalAuth: %w", errPoison, err)
			continue
		}
		var c *uaconfig.Config
		if choice.Attach {
			cfg, err := uaconfig.NewConfig(choice.Defaults, r.id.ID, uaconfig.Settings{}, h.now())
			if err != nil {
				r.err = fmt.Errorf("%w: %s: %w", errPoison, choice.Why, err)
				continue
			}
			c = &cfg
		}
		todo, ids, configs, why = append(todo, r), append(ids, r.id), append(configs, c), append(why, choice.Why)
	}
	if len(todo) == 0 {
		return
	}
	errs := h.Store.RecordIdentities(ctx, ids, configs, Actor)
	if len(errs) != len(todo) { // a store that breaks its contract loses nothing
		for _, r := range todo {
			r.err = fmt.Errorf("store answered %d of %d identities", len(errs), len(todo))
		}
		return
	}
	for i, err := range errs {
		r := todo[i]
		switch {
		case errors.Is(err, identity.ErrExists), errors.Is(err, identity.ErrDeleted):
			r.known = true
			r.log.InfoContext(ctx, "identity event ignored", slog.String("reason", err.Error()))
		case errors.Is(err, identity.ErrOrgMismatch):
			r.err = fmt.Errorf("%w: %w", errPoison, err)
		case err != nil:
			r.err = err
		default:
			r.log.InfoContext(ctx, "identity recorded", slog.Bool("attached", configs[i] != nil), slog.String("configuration", why[i]))
			if c := configs[i]; c != nil {
				audit.Record(ctx, audit.Event{Event: audit.ConfigAttached, Outcome: audit.Success, IdentityID: r.id.ID,
					OrgID: r.id.OrgID, ClientID: c.ClientID})
			}
		}
	}
}

// change applies an Identity Updated or Identity Deleted.
func (h *Handler) change(ctx context.Context, r *record) error {
	switch r.ev.DetailType {
	case IdentityUpdated:
		switch err := h.Store.SetPermissions(ctx, r.id); {
		case errors.Is(err, identity.ErrStale), errors.Is(err, identity.ErrDeleted):
			r.known = true
			r.log.InfoContext(ctx, "identity event ignored", slog.String("reason", err.Error()))
		case errors.Is(err, identity.ErrOrgMismatch):
			return fmt.Errorf("%w: %w", errPoison, err)
		case err != nil: // ErrNotRecorded: its create is still on its way
			return err
		default:
			r.log.InfoContext(ctx, "identity permissions set", slog.Int("permissions", len(r.detail.Permissions)))
		}
	case IdentityDeleted:
		err := h.Store.DeleteIdentity(ctx, r.id.ID, r.id.OrgID, r.at, h.now().Add(h.TombstoneTTL), Actor)
		if errors.Is(err, identity.ErrOrgMismatch) {
			return fmt.Errorf("%w: %w", errPoison, err)
		}
		if err != nil {
			return err
		}
		r.log.InfoContext(ctx, "identity deleted")
	}
	return nil
}

// Decode parses and validates one SQS body: an EventBridge event of a
// handled detail-type whose detail names the identity and organization by
// UUID, which it returns in canonical form. It reads in one pass; names
// are exact and may not repeat.
func Decode(body []byte) (events.EventBridgeEvent, Detail, error) {
	var ev events.EventBridgeEvent
	var d Detail
	err := strictjson.Decode(body, false, func(o *strictjson.Object, name string) error {
		var err error
		switch name {
		case "id":
			ev.ID, _, err = o.String(name)
		case "detail-type":
			ev.DetailType, _, err = o.String(name)
		case "source":
			ev.Source, _, err = o.String(name)
		case "time":
			var t string
			var ok bool
			if t, ok, err = o.String(name); ok {
				if ev.Time, err = time.Parse(time.RFC3339, t); err != nil {
					o.Issue(name, "is not an RFC 3339 time")
					err = nil
				}
			}
		case "detail":
			_, err = o.Object(name, d.member)
		default:
			err = o.Skip()
		}
		return err
	})
	if err != nil {
		return ev, d, fmt.Errorf("body is not an EventBridge identity event: %w", err)
	}
	if ev.DetailType != IdentityCreated && ev.DetailType != IdentityUpdated && ev.DetailType != IdentityDeleted {
		return ev, d, fmt.Errorf("unhandled detail-type %q", ev.DetailType)
	}
	identityID, ok1 := identity.CanonicalID(d.IdentityID)
	orgID, ok2 := identity.CanonicalID(d.OrgID)
	if !ok1 || !ok2 {
		return ev, d, errors.New("detail.identityId and detail.orgId must be UUIDs")
	}
	d.IdentityID, d.OrgID = identityID, orgID
	if len(d.Permissions) > maxPermissions {
		return ev, d, fmt.Errorf("detail.permissions has %d entries, more than %d", len(d.Permissions), maxPermissions)
	}
	for _, p := range d.Permissions {
		if p == "" || len(p) > maxPermissionLength {
			return ev, d, fmt.Errorf("detail.permissions: %q is not a permission string", p)
		}
	}
	return ev, d, nil
}

// member reads one member of the detail.
func (d *Detail) member(o *strictjson.Object, name string) error {
	var err error
	switch name {
	case "identityId":
		d.IdentityID, _, err = o.String(name)
	case "orgId":
		d.OrgID, _, err = o.String(name)
	case "name":
		d.Name, _, err = o.String(name)
	case "permissions":
		d.Permissions, _, err = o.Strings(name)
	case "universalAuth":
		d.UniversalAuth, err = o.Raw()
	default:
		err = o.Skip()
	}
	return err
}

// PermissionsVersion orders the permission changes of one identity, so
// that redelivered and reordered events converge: by the event's time,
// then Created before Updated (a create's permissions are the first), then
// by event id, which makes every order of delivery end the same way.
func PermissionsVersion(ev events.EventBridgeEvent) string {
	kind := "1"
	if ev.DetailType == IdentityCreated {
		kind = "0"
	}
	return ev.Time.UTC().Format("2006-01-02T15:04:05Z") + "|" + kind + "|" + ev.ID
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}
