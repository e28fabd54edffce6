package sessions

import "strings"

// Every Redis key the gateway writes is built here, so the key space can be
// read in one place and every key carries the deployment's prefix.

// sessionKey is the key of one conversation, e.g. "bf:s:ussd:at:ATUid_1".
func (s *Store) sessionKey(channel, id string) string {
	var b strings.Builder
	b.Grow(len(s.prefix) + len(channel) + len(id) + 3)
	b.WriteString(s.prefix)
	b.WriteString("s:")
	b.WriteString(channel)
	b.WriteByte(':')
	b.WriteString(id)
	return b.String()
}

// resumeKey holds a phone's unfinished walk, e.g. "bf:r:+8613800138002".
func (s *Store) resumeKey(phone string) string {
	return s.prefix + "r:" + phone
}

// limitKey counts one key (a phone, or "all") against a named limit, e.g.
// "bf:rl:registered:+8613800138002".
func (l *Limiter) limitKey(key string) string {
	return l.prefix + "rl:" + l.name + ":" + key
}
