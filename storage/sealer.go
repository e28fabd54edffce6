package storage

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Reports' answers hold what a director typed and chose: for a protection
// concern, the details of a child's harm. With data keys configured they
// are stored sealed, AES-256-GCM under a key from the environment (never
// in the database), bound to the report's reference so that a sealed value
// cannot be moved to another report; the structured fields stay readable
// for statistics. Keys are named, so they can be rotated: new writes use
// the first key, reads use whichever key sealed the value, and
// RekeyAnswers reseals old values under the first.

// sealedPrefix marks a sealed value: "bfs1.<key name>.<base64 nonce+ciphertext>".
const sealedPrefix = "bfs1."

// sealedField is the one field of a sealed answers object.
const sealedField = "sealed"

// Sealer seals and opens values under named keys.
type Sealer struct {
	current string
	keys    map[string]cipher.AEAD
}

// NewSealer reads keys written "name:base64key,name:base64key", each key
// 32 random bytes (openssl rand -base64 32); the first seals new values.
func NewSealer(spec string) (*Sealer, error) {
	s := &Sealer{keys: map[string]cipher.AEAD{}}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, b64, ok := strings.Cut(part, ":")
		if !ok || name == "" || strings.ContainsAny(name, ". ") {
			return nil, errors.New("want name:base64key, names without dots or spaces")
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("key %q: want 32 bytes in base64", name)
		}
		if _, dup := s.keys[name]; dup {
			return nil, fmt.Errorf("key %q named twice", name)
		}
		block, _ := aes.NewCipher(key)
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.keys[name] = aead
		if s.current == "" {
			s.current = name
		}
	}
	if s.current == "" {
		return nil, errors.New("no key")
	}
	return s, nil
}

// seal returns plain sealed under the current key, bound to aad.
func (s *Sealer) seal(plain []byte, aad string) (string, error) {
	aead := s.keys[s.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := aead.Seal(nonce, nonce, plain, []byte(aad))
	return sealedPrefix + s.current + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// open returns what seal sealed, and the name of the key it used.
func (s *Sealer) open(sealed, aad string) ([]byte, string, error) {
	rest, ok := strings.CutPrefix(sealed, sealedPrefix)
	name, b64, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 {
		return nil, "", errors.New("not a sealed value")
	}
	aead, ok := s.keys[name]
	if !ok {
		return nil, "", fmt.Errorf("sealed under key %q, which is not configured", name)
	}
	raw, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil || len(raw) < aead.NonceSize() {
		return nil, "", errors.New("sealed value is damaged")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(aad))
	if err != nil {
		return nil, "", errors.New("sealed value does not open: damaged, moved, or another key")
	}
	return plain, name, nil
}

// SetSealer seals reports' answers from now on (nil stores them plain).
// Answers sealed before are opened with it whatever it is set to.
func (db *DB) SetSealer(s *Sealer) { db.sealer = s }

// sealAnswers returns the answers JSON to store for the report ref.
func (db *DB) sealAnswers(answersJSON, ref string) (string, error) {
	if db.sealer == nil {
		return answersJSON, nil
	}
	sealed, err := db.sealer.seal([]byte(answersJSON), "answers:"+ref)
	if err != nil {
		return "", fmt.Errorf("seal answers: %w", err)
	}
	js, _ := json.Marshal(map[string]string{sealedField: sealed})
	return string(js), nil
}

// openAnswers decodes stored answers, opening them if sealed.
func (db *DB) openAnswers(raw []byte, ref string) (map[string]string, error) {
	answers := map[string]string{}
	if err := json.Unmarshal(raw, &answers); err != nil {
		return nil, fmt.Errorf("decode answers: %w", err)
	}
	sealed, ok := answers[sealedField]
	if !ok || len(answers) != 1 || !strings.HasPrefix(sealed, sealedPrefix) {
		return answers, nil
	}
	if db.sealer == nil {
		return nil, errors.New("answers are sealed and no data key is configured (BAREFOOT_DATA_KEYS)")
	}
	plain, _, err := db.sealer.open(sealed, "answers:"+ref)
	if err != nil {
		return nil, fmt.Errorf("open answers: %w", err)
	}
	answers = map[string]string{}
	if err := json.Unmarshal(plain, &answers); err != nil {
		return nil, fmt.Errorf("decode answers: %w", err)
	}
	return answers, nil
}

// RekeyAnswers seals under the first key every report's answers that are
// plain (stored before keys were configured) or sealed under another key,
// and returns how many it resealed. Run it after putting a new key first,
// then drop the old key from the configuration.
func (db *DB) RekeyAnswers(ctx context.Context) (int, error) {
	if db.sealer == nil {
		return 0, errors.New("rekey: no data key is configured (BAREFOOT_DATA_KEYS)")
	}
	current := sealedPrefix + db.sealer.current + "."
	n := 0
	for _, table := range []string{"visits", "needs"} {
		var rows []struct {
			Ref     string `db:"ref"`
			Answers []byte `db:"answers"`
		}
		q := `SELECT ref, answers FROM ` + table + ` WHERE answers <> '{}'::jsonb AND COALESCE(answers->>'sealed', '') NOT LIKE $1 || '%'`
		if err := db.db.SelectContext(ctx, &rows, q, current); err != nil {
			return n, fmt.Errorf("rekey %s: %w", table, err)
		}
		for _, r := range rows {
			answers, err := db.openAnswers(r.Answers, r.Ref)
			if err != nil {
				return n, fmt.Errorf("rekey %s: %w", r.Ref, err)
			}
			js, _ := json.Marshal(answers)
			sealed, err := db.sealAnswers(string(js), r.Ref)
			if err != nil {
				return n, err
			}
			if _, err := db.db.ExecContext(ctx, `UPDATE `+table+` SET answers = $2 WHERE ref = $1`, r.Ref, sealed); err != nil {
				return n, fmt.Errorf("rekey %s: %w", r.Ref, err)
			}
			n++
		}
	}
	return n, nil
}
