// Package sessions keeps per-caller conversation state in Redis: one small
// snapshot per session, written with a compare-and-set on a revision number
// so that two concurrent callbacks for one session can never interleave
// their writes, and a TTL on every key so nothing outlives its use.
//
// Redis is a cache of the conversation, not its record: a lost key is
// rebuilt by the gateway from the carrier's cumulative input, and reports
// are made idempotent in Postgres, not here.
package sessions
