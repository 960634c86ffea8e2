package exchange

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func unix(t time.Time) int64 { return t.Unix() }

func fromUnix(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := time.Unix(n.Int64, 0)
	return &t
}

// isUnique reports a UNIQUE constraint failure.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// Users.

const userColumns = `id, code, email, name, kind, lang, COALESCE(manager_id, 0), password, totp, totp_step, failures, locked_until, created, certificate`

func scanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	var locked, created int64
	err := row.Scan(&u.ID, &u.Code, &u.Email, &u.Name, &u.Kind, &u.Lang, &u.ManagerID, &u.password, &u.totp,
		&u.totpStep, &u.failures, &locked, &created, &u.certificate)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoUser
	}
	if err != nil {
		return nil, fmt.Errorf("exchange: database: %w", err)
	}
	u.LockedUntil, u.Created = time.Unix(locked, 0), time.Unix(created, 0)
	u.HasPassword, u.TOTP = u.password != "", u.totp != nil
	return &u, nil
}

func (t *tx) insertUser(u *User) error {
	var manager any
	if u.ManagerID != 0 {
		manager = u.ManagerID
	}
	return t.QueryRow(`INSERT INTO users (code, email, name, kind, lang, manager_id, created) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Code, u.Email, u.Name, u.Kind, u.Lang, manager, unix(u.Created)).Scan(&u.ID)
}

// userByLogin finds a user by user code or e-mail address (both
// normalised by the caller).
func (t *tx) userByLogin(code, email string) (*User, error) {
	return scanUser(t.QueryRow(`SELECT `+userColumns+` FROM users WHERE code = ? OR email = ? FOR UPDATE`, code, email))
}

func (t *tx) userByID(id int64) (*User, error) {
	return scanUser(t.QueryRow(`SELECT `+userColumns+` FROM users WHERE id = ? FOR UPDATE`, id))
}

func (t *tx) users(managerID int64) ([]User, error) {
	q, args := `SELECT `+userColumns+` FROM users ORDER BY kind, name, id`, []any{}
	if managerID != 0 {
		q, args = `SELECT `+userColumns+` FROM users WHERE manager_id = ? ORDER BY name, id`, []any{managerID}
	}
	rows, err := t.Query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("exchange: database: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *u)
	}
	return out, rows.Err()
}

func (t *tx) setPassword(userID int64, phc string) error {
	_, err := t.Exec(`UPDATE users SET password = ?, failures = 0, locked_until = 0 WHERE id = ?`, phc, userID)
	return err
}

// reserveAttempt counts a sign-in attempt before its check, so that
// attempts in parallel cannot outnumber the limit; the one that reaches
// it locks the account until lockUntil.
func (t *tx) reserveAttempt(userID int64, limit int, lockUntil time.Time) (failures int, err error) {
	err = t.QueryRow(`UPDATE users SET failures = failures + 1,
		locked_until = CASE WHEN failures + 1 >= ? THEN ? ELSE locked_until END
		WHERE id = ? RETURNING failures`, limit, unix(lockUntil), userID).Scan(&failures)
	return failures, err
}

// reserveAddressAttempt counts a sign-in attempt from an address before
// its check, as reserveAttempt does for an account: the count restarts
// when the last one is older than since; the attempt that reaches limit
// locks the address until lockUntil. It returns the lock in force before
// this attempt (zero when none).
func (t *tx) reserveAddressAttempt(remote string, limit int, now, since, lockUntil time.Time) (time.Time, error) {
	if t.s.dialect == postgresDB {
		// The address's row may not exist yet, which FOR UPDATE cannot
		// lock: attempts from one address wait for each other here.
		if _, err := t.Exec(`SELECT pg_advisory_xact_lock(hashtext(?))`, "address "+remote); err != nil {
			return time.Time{}, err
		}
	}
	var locked int64
	err := t.QueryRow(`SELECT locked_until FROM addresses WHERE remote = ? FOR UPDATE`, remote).Scan(&locked)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, err
	}
	if locked > unix(now) {
		return time.Unix(locked, 0), nil
	}
	_, err = t.Exec(`INSERT INTO addresses (remote, failures, locked_until, last) VALUES (?, 1, CASE WHEN 1 >= ? THEN CAST(? AS BIGINT) ELSE 0 END, ?)
		ON CONFLICT (remote) DO UPDATE SET
			failures = CASE WHEN addresses.last < ? THEN 1 ELSE addresses.failures + 1 END,
			locked_until = CASE WHEN (CASE WHEN addresses.last < ? THEN 1 ELSE addresses.failures + 1 END) >= ? THEN ? ELSE addresses.locked_until END,
			last = ?`,
		remote, limit, unix(lockUntil), unix(now), unix(since), unix(since), limit, unix(lockUntil), unix(now))
	return time.Time{}, err
}

// releaseAddressAttempt takes back the attempt a right answer reserved:
// only failures count against an address.
func (t *tx) releaseAddressAttempt(remote string) error {
	_, err := t.Exec(`UPDATE addresses SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END WHERE remote = ?`, remote)
	return err
}

// resetAttempts clears the count after a right answer.
func (t *tx) resetAttempts(userID int64) error {
	_, err := t.Exec(`UPDATE users SET failures = 0, locked_until = 0 WHERE id = ?`, userID)
	return err
}

func (t *tx) setTOTP(userID int64, wrapped []byte, step int64) error {
	_, err := t.Exec(`UPDATE users SET totp = ?, totp_step = ? WHERE id = ?`, wrapped, step, userID)
	return err
}

// useTOTPStep records step as used, unless it (or a later one) was.
func (t *tx) useTOTPStep(userID, step int64) (bool, error) {
	res, err := t.Exec(`UPDATE users SET totp_step = ? WHERE id = ? AND totp_step < ?`, step, userID, step)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// setCertificate keeps (or, with nil, forgets) a user's encryption
// certificate chain.
func (t *tx) setCertificate(userID int64, der []byte) error {
	_, err := t.Exec(`UPDATE users SET certificate = ? WHERE id = ?`, der, userID)
	return err
}

func (t *tx) setLang(userID int64, lang string) error {
	_, err := t.Exec(`UPDATE users SET lang = ? WHERE id = ?`, lang, userID)
	return err
}

func (t *tx) setManager(userID, managerID int64) error {
	_, err := t.Exec(`UPDATE users SET manager_id = ? WHERE id = ?`, managerID, userID)
	return err
}

// Invitations.

func (t *tx) insertInvitation(hash string, userID int64, now, expires time.Time) error {
	// A new link replaces the ones not used yet.
	if _, err := t.Exec(`UPDATE invitations SET used = ? WHERE user_id = ? AND used IS NULL`, unix(now), userID); err != nil {
		return err
	}
	_, err := t.Exec(`INSERT INTO invitations (hash, user_id, created, expires) VALUES (?, ?, ?, ?)`, hash, userID, unix(now), unix(expires))
	return err
}

// invitation returns the user an invitation is for, its expiry and
// whether it was used.
func (t *tx) invitation(hash string) (userID int64, expires time.Time, used bool, err error) {
	var exp int64
	var u sql.NullInt64
	err = t.QueryRow(`SELECT user_id, expires, used FROM invitations WHERE hash = ?`, hash).Scan(&userID, &exp, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, false, ErrInvitation
	}
	return userID, time.Unix(exp, 0), u.Valid, err
}

// useInvitation marks it used, unless it was already.
func (t *tx) useInvitation(hash string, now time.Time) (bool, error) {
	res, err := t.Exec(`UPDATE invitations SET used = ? WHERE hash = ? AND used IS NULL`, unix(now), hash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Sessions.

func (t *tx) insertSession(hash string, userID int64, stage string, now time.Time, api bool) error {
	_, err := t.Exec(`INSERT INTO sessions (hash, user_id, stage, created, seen, api) VALUES (?, ?, ?, ?, ?, ?)`,
		hash, userID, stage, unix(now), unix(now), api)
	return err
}

func (t *tx) session(hash string) (userID int64, stage string, created, seen time.Time, api bool, err error) {
	var c, s int64
	err = t.QueryRow(`SELECT user_id, stage, created, seen, api FROM sessions WHERE hash = ?`, hash).Scan(&userID, &stage, &c, &s, &api)
	if errors.Is(err, sql.ErrNoRows) {
		err = errNoSession
	}
	return userID, stage, time.Unix(c, 0), time.Unix(s, 0), api, err
}

func (t *tx) touchSession(hash string, now time.Time) error {
	_, err := t.Exec(`UPDATE sessions SET seen = ? WHERE hash = ?`, unix(now), hash)
	return err
}

func (t *tx) deleteSession(hash string) error {
	_, err := t.Exec(`DELETE FROM sessions WHERE hash = ?`, hash)
	return err
}

// deleteSessions signs the user out everywhere but keep (a hash, or "").
func (t *tx) deleteSessions(userID int64, keep string) error {
	_, err := t.Exec(`DELETE FROM sessions WHERE user_id = ? AND hash != ?`, userID, keep)
	return err
}

func (t *tx) deleteStaleSessions(before time.Time) error {
	_, err := t.Exec(`DELETE FROM sessions WHERE seen < ?`, unix(before))
	return err
}

// Parcels.

func (t *tx) insertParcel(p *Parcel, note, key []byte) error {
	_, err := t.Exec(`INSERT INTO parcels (id, sender_id, recipient_id, title, note, key, created, expires, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.ID, p.Sender.ID, p.Recipient.ID, p.Title, note, key, unix(p.Created), unix(p.Expires), StatusSent)
	if err != nil {
		return err
	}
	for _, d := range p.Documents {
		verdict, _ := json.Marshal(d.Verdicts)
		if d.Verdicts == nil {
			verdict = nil
		}
		if _, err := t.Exec(`INSERT INTO documents (id, parcel_id, idx, name, size, type, sha256, blob, key, verdict)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, p.ID, d.Index, d.Name, d.Size, d.Type, d.SHA256, d.blob, d.key, string(verdict)); err != nil {
			return err
		}
	}
	return nil
}

const parcelColumns = `p.id, p.title, p.note, p.key, p.created, p.expires, p.opened, p.status, p.destroyed,
	s.id, s.code, s.email, s.name, s.kind, r.id, r.code, r.email, r.name, r.kind`

const parcelJoin = ` FROM parcels p JOIN users s ON s.id = p.sender_id JOIN users r ON r.id = p.recipient_id`

func scanParcel(row interface{ Scan(...any) error }) (*Parcel, error) {
	var p Parcel
	var created, expires int64
	var opened, destroyed sql.NullInt64
	err := row.Scan(&p.ID, &p.Title, &p.note, &p.key, &created, &expires, &opened, &p.Status, &destroyed,
		&p.Sender.ID, &p.Sender.Code, &p.Sender.Email, &p.Sender.Name, &p.Sender.Kind,
		&p.Recipient.ID, &p.Recipient.Code, &p.Recipient.Email, &p.Recipient.Name, &p.Recipient.Kind)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoParcel
	}
	if err != nil {
		return nil, fmt.Errorf("exchange: database: %w", err)
	}
	p.Created, p.Expires = time.Unix(created, 0), time.Unix(expires, 0)
	p.Opened, p.Destroyed = fromUnix(opened), fromUnix(destroyed)
	return &p, nil
}

func (t *tx) parcel(id string) (*Parcel, error) {
	p, err := scanParcel(t.QueryRow(`SELECT `+parcelColumns+parcelJoin+` WHERE p.id = ?`, id))
	if err != nil {
		return nil, err
	}
	rows, err := t.Query(`SELECT id, idx, name, size, type, sha256, blob, key, verdict FROM documents WHERE parcel_id = ? ORDER BY idx`, id)
	if err != nil {
		return nil, fmt.Errorf("exchange: database: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d Document
		var blob sql.NullString
		var verdict string
		if err := rows.Scan(&d.ID, &d.Index, &d.Name, &d.Size, &d.Type, &d.SHA256, &blob, &d.key, &verdict); err != nil {
			return nil, fmt.Errorf("exchange: database: %w", err)
		}
		d.blob, d.EndToEnd = blob.String, d.Type == typeEnveloped
		if verdict != "" {
			json.Unmarshal([]byte(verdict), &d.Verdicts)
		}
		p.Documents = append(p.Documents, d)
	}
	return p, rows.Err()
}

// parcels lists the parcels a user sent or received, newest first.
func (t *tx) parcels(userID int64) ([]Parcel, error) {
	rows, err := t.Query(`SELECT `+parcelColumns+parcelJoin+` WHERE p.sender_id = ? OR p.recipient_id = ? ORDER BY p.created DESC, `+t.s.dialect.insertion("p")+` DESC`, userID, userID)
	if err != nil {
		return nil, fmt.Errorf("exchange: database: %w", err)
	}
	defer rows.Close()
	var out []Parcel
	for rows.Next() {
		p, err := scanParcel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := t.QueryRow(`SELECT count(*), CAST(COALESCE(sum(size), 0) AS BIGINT) FROM documents WHERE parcel_id = ?`, out[i].ID).Scan(&out[i].Count, &out[i].Bytes); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *tx) markOpened(id string, now time.Time) (bool, error) {
	res, err := t.Exec(`UPDATE parcels SET opened = ?, status = ? WHERE id = ? AND opened IS NULL AND status = ?`, unix(now), StatusOpened, id, StatusSent)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// dueParcels are the parcels expired by now whose keys are still kept.
func (t *tx) dueParcels(now time.Time) ([]string, error) {
	rows, err := t.Query(`SELECT id FROM parcels WHERE destroyed IS NULL AND expires <= ?`, unix(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// destroyParcel forgets a parcel's keys and note and sets its final
// status; its documents' files are removed after (removedBlob).
func (t *tx) destroyParcel(id, status string, now time.Time) (bool, error) {
	res, err := t.Exec(`UPDATE parcels SET note = NULL, key = NULL, destroyed = ?, status = ? WHERE id = ? AND destroyed IS NULL`, unix(now), status, id)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	_, err = t.Exec(`UPDATE documents SET key = NULL WHERE parcel_id = ?`, id)
	return true, err
}

// orphanBlobs are the files of documents whose keys are gone but whose
// files were not removed yet (a crash between the two), and every file
// name the database knows.
func (t *tx) blobs() (pending []string, known map[string]bool, err error) {
	rows, err := t.Query(`SELECT blob, key IS NULL FROM documents WHERE blob IS NOT NULL`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	known = map[string]bool{}
	for rows.Next() {
		var blob string
		var gone bool
		if err := rows.Scan(&blob, &gone); err != nil {
			return nil, nil, err
		}
		known[blob] = true
		if gone {
			pending = append(pending, blob)
		}
	}
	return pending, known, rows.Err()
}

func (t *tx) removedBlob(blob string) error {
	_, err := t.Exec(`UPDATE documents SET blob = NULL WHERE blob = ? AND key IS NULL`, blob)
	return err
}

// Events.

func (t *tx) event(at time.Time, userID int64, parcelID, documentID, action, remote string) error {
	var u, p, d any
	if userID != 0 {
		u = userID
	}
	if parcelID != "" {
		p = parcelID
	}
	if documentID != "" {
		d = documentID
	}
	_, err := t.Exec(`INSERT INTO events (at, user_id, parcel_id, document_id, action, remote) VALUES (?, ?, ?, ?, ?, ?)`, unix(at), u, p, d, action, remote)
	return err
}

func (t *tx) events(parcelID string) ([]Event, error) {
	rows, err := t.Query(`SELECT e.at, COALESCE(u.name, ''), e.action, COALESCE(d.name, ''), e.remote FROM events e
		LEFT JOIN users u ON u.id = e.user_id LEFT JOIN documents d ON d.id = e.document_id
		WHERE e.parcel_id = ? ORDER BY e.id`, parcelID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&at, &e.Who, &e.Action, &e.Document, &e.Remote); err != nil {
			return nil, err
		}
		e.At = time.Unix(at, 0)
		out = append(out, e)
	}
	return out, rows.Err()
}
