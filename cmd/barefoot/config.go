package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	// The zone database goes into the binary: a minimal container may
	// have none, and report dates must not silently fall back to UTC.
	_ "time/tzdata"

	"github.com/barefoot-ussd/barefoot/gateway/assemble"
	"github.com/barefoot-ussd/barefoot/menus/cases"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/redis/go-redis/v9"
)

// config is read from the environment; every setting has a default that
// works on a developer machine with local Postgres and Redis.
type config struct {
	Addr        string
	DatabaseURL string
	RedisURL    string
	RedisPrefix string
	Region      string
	SessionTTL  time.Duration
	ResumeTTL   time.Duration
	// DrainDelay is how long a stopping process reports itself not ready
	// before it stops taking connections.
	DrainDelay time.Duration
	// DataKeys seal reports' answers at rest ("name:base64key,...").
	DataKeys string
	// AdminAddr, when set, is where the admin API, the console and
	// /metrics listen, apart from the carriers.
	AdminAddr string
	// WebhookSecret must come with every callback of a carrier that does
	// not sign its own.
	WebhookSecret string
	// SpoolDir keeps reports Postgres cannot take in time.
	SpoolDir string
	// PublicURL is the gateway's address as carriers reach it, for
	// Twilio's signatures and delivery-report callbacks.
	PublicURL string
	// SMS settings.
	SMSSessionTTL time.Duration
	SMSReplyLimit int
	// SMSStrangerReplyLimit bounds replies to numbers not in the registry.
	SMSStrangerReplyLimit int
	SMSReplyWindow        time.Duration
	// SMSDailyReplies bounds the replies of the whole deployment a day.
	SMSDailyReplies int
	// Location is the deployment's time zone, for report dates,
	// follow-ups, reminders and quiet hours.
	Location *time.Location
	// QuietHours hold reminders until morning; alerts are never held.
	QuietHours storage.QuietHours
	// ReminderDay is the day of the month of the visit reminders.
	ReminderDay int
	// StatusSecret requires a child code and a secret with STATUS.
	StatusSecret bool
	// AlertCarrier sends alerts about urgent reports: one of the carriers
	// that carry SMS, checked when the gateway is assembled.
	AlertCarrier string
	// CaseDeadlines are how long each level has to acknowledge a case.
	CaseDeadlines cases.Deadlines
	LogLevel      slog.Level
	// Getenv reads the settings of each carrier, which its own package
	// reads and checks.
	Getenv func(string) string
}

func loadConfig(getenv func(string) string) (config, error) {
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	c := config{
		// Loopback by default: beyond it, every carrier callback must carry
		// the webhook secret (see serve).
		Addr:        get("BAREFOOT_ADDR", "127.0.0.1:8080"),
		DatabaseURL: get("BAREFOOT_DATABASE_URL", "postgres://barefoot:barefoot@127.0.0.1:5432/barefoot?sslmode=disable"),
		RedisURL:    get("BAREFOOT_REDIS_URL", "redis://127.0.0.1:6379/0"),
		RedisPrefix: get("BAREFOOT_REDIS_PREFIX", "bf:"),
		Region:      strings.ToUpper(get("BAREFOOT_PHONE_REGION", "CN")),
		Getenv:      getenv,
	}
	ttl, err := time.ParseDuration(get("BAREFOOT_SESSION_TTL", "5m"))
	if err != nil || ttl < time.Second {
		return c, fmt.Errorf("BAREFOOT_SESSION_TTL: want a duration such as 5m, got %q", getenv("BAREFOOT_SESSION_TTL"))
	}
	c.SessionTTL = ttl
	resume, err := time.ParseDuration(get("BAREFOOT_RESUME_TTL", "10m"))
	if err != nil || resume < time.Second {
		return c, fmt.Errorf("BAREFOOT_RESUME_TTL: want a duration such as 10m, got %q", getenv("BAREFOOT_RESUME_TTL"))
	}
	c.ResumeTTL = resume
	durations := []struct {
		dst   *time.Duration
		key   string
		def   string
		least time.Duration
	}{
		{&c.SMSSessionTTL, "BAREFOOT_SMS_SESSION_TTL", "30m", time.Second},
		{&c.SMSReplyWindow, "BAREFOOT_SMS_REPLY_WINDOW", "10m", time.Second},
		{&c.DrainDelay, "BAREFOOT_DRAIN_DELAY", "0s", 0},
	}
	for _, d := range durations {
		v, err := time.ParseDuration(get(d.key, d.def))
		if err != nil || v < d.least {
			return c, fmt.Errorf("%s: want a duration such as %s, got %q", d.key, d.def, getenv(d.key))
		}
		*d.dst = v
	}
	counts := []struct {
		dst *int
		key string
		def int
	}{
		{&c.SMSReplyLimit, "BAREFOOT_SMS_REPLY_LIMIT", assemble.DefaultReplyLimit},
		{&c.SMSStrangerReplyLimit, "BAREFOOT_SMS_STRANGER_REPLY_LIMIT", assemble.DefaultStrangerReplyLimit},
	}
	for _, n := range counts {
		if _, err := fmt.Sscan(get(n.key, strconv.Itoa(n.def)), n.dst); err != nil || *n.dst < 1 {
			return c, fmt.Errorf("%s: want a whole number of replies, got %q", n.key, getenv(n.key))
		}
	}
	if _, err := fmt.Sscan(get("BAREFOOT_SMS_DAILY_REPLIES", "5000"), &c.SMSDailyReplies); err != nil || c.SMSDailyReplies < 1 {
		return c, fmt.Errorf("BAREFOOT_SMS_DAILY_REPLIES: want a whole number of replies, got %q", getenv("BAREFOOT_SMS_DAILY_REPLIES"))
	}
	c.PublicURL = strings.TrimRight(get("BAREFOOT_PUBLIC_URL", ""), "/")
	c.AdminAddr = get("BAREFOOT_ADMIN_ADDR", "")
	c.DataKeys = get("BAREFOOT_DATA_KEYS", "")
	if c.DataKeys != "" {
		if _, err := storage.NewSealer(c.DataKeys); err != nil {
			return c, fmt.Errorf("BAREFOOT_DATA_KEYS: %w", err)
		}
	}
	c.WebhookSecret = get("BAREFOOT_WEBHOOK_SECRET", "")
	if c.WebhookSecret != "" && len(c.WebhookSecret) < 16 {
		return c, errors.New("BAREFOOT_WEBHOOK_SECRET: want at least 16 characters (e.g. openssl rand -hex 16)")
	}
	c.SpoolDir = get("BAREFOOT_SPOOL_DIR", "var/spool")
	loc, err := time.LoadLocation(get("BAREFOOT_TIMEZONE", "Asia/Shanghai"))
	if err != nil {
		return c, fmt.Errorf("BAREFOOT_TIMEZONE: want a zone such as Asia/Shanghai, got %q", getenv("BAREFOOT_TIMEZONE"))
	}
	c.Location = loc
	if c.QuietHours, err = storage.ParseQuietHours(get("BAREFOOT_QUIET_HOURS", "21:00-08:00")); err != nil {
		return c, fmt.Errorf("BAREFOOT_QUIET_HOURS: %w", err)
	}
	if _, err := fmt.Sscan(get("BAREFOOT_REMINDER_DAY", strconv.Itoa(storage.DefaultReminderDay)), &c.ReminderDay); err != nil || c.ReminderDay < 1 || c.ReminderDay > 28 {
		return c, fmt.Errorf("BAREFOOT_REMINDER_DAY: want a day of the month from 1 to 28, got %q", getenv("BAREFOOT_REMINDER_DAY"))
	}
	switch v := get("BAREFOOT_STATUS_SECRET", "off"); v {
	case "off":
	case "required":
		c.StatusSecret = true
	default:
		return c, fmt.Errorf("BAREFOOT_STATUS_SECRET: want off or required, got %q", v)
	}
	c.AlertCarrier = get("BAREFOOT_ALERT_CARRIER", "at")
	if c.CaseDeadlines, err = caseDeadlines(get); err != nil {
		return c, err
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("BAREFOOT_LOG_LEVEL", "info"))); err != nil {
		return c, fmt.Errorf("BAREFOOT_LOG_LEVEL: want debug, info, warn or error")
	}
	if _, err := (phone.Normalizer{Region: c.Region}).Normalize("+8613800138000"); err != nil || len(c.Region) != 2 {
		return c, fmt.Errorf("BAREFOOT_PHONE_REGION: want a two-letter country code such as CN, got %q", c.Region)
	}
	return c, nil
}

func (c config) logger() *slog.Logger {
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: c.LogLevel, ReplaceAttr: phone.RedactAttr}))
	// go-redis prints pool errors with the standard logger; route them
	// through slog so they are structured, levelled and redacted like the
	// rest, and so a failed start-up ends in one clear line.
	redis.SetLogger(redisLog{log})
	return log
}

type redisLog struct{ log *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.log.DebugContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}

// openDB connects to Postgres; its error names the variable to fix.
func (c config) openDB(ctx context.Context) (*storage.DB, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	db, err := storage.Open(ctx, c.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("BAREFOOT_DATABASE_URL: %w", err)
	}
	if c.DataKeys != "" {
		s, err := storage.NewSealer(c.DataKeys)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("BAREFOOT_DATA_KEYS: %w", err)
		}
		db.SetSealer(s)
	}
	return db, nil
}

// openMigrated connects to Postgres and brings its schema up to date.
func (c config) openMigrated(ctx context.Context) (*storage.DB, error) {
	db, err := c.openDB(ctx)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return db, nil
}

// openRedis connects to Redis; its error names the variable to fix. A
// URL with master_name names Sentinels rather than Redis itself:
// redis://sentinel-1:26379/0?master_name=barefoot&addr=sentinel-2:26379
// asks them for the master, and follows it when they fail over.
func (c config) openRedis(ctx context.Context) (redis.UniversalClient, error) {
	var (
		rdb  redis.UniversalClient
		addr string
	)
	if u, err := url.Parse(c.RedisURL); err == nil && u.Query().Has("master_name") {
		opt, err := redis.ParseFailoverURL(c.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("BAREFOOT_REDIS_URL: %w", err)
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = redisTimeouts()
		opt.ContextTimeoutEnabled, opt.MaxRetries = true, 1
		if opt.Protocol == 0 {
			opt.Protocol = 2
		}
		rdb, addr = redis.NewFailoverClient(opt), "the Sentinels' master "+opt.MasterName
	} else {
		opt, err := redis.ParseURL(c.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("BAREFOOT_REDIS_URL: %w", err)
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = redisTimeouts()
		// The conversation layer gives each call its own short deadline;
		// honour it, and do not multiply it by retries.
		opt.ContextTimeoutEnabled = true
		opt.MaxRetries = 1
		// RESP2: the gateway subscribes to nothing, and under RESP3 every
		// reply is first checked for pending push notifications (a measured
		// 4% of a hop's CPU).
		if opt.Protocol == 0 {
			opt.Protocol = 2
		}
		rdb, addr = redis.NewClient(opt), opt.Addr
	}
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("BAREFOOT_REDIS_URL: cannot reach Redis at %s: %w", addr, unwrapAll(err))
	}
	return rdb, nil
}

// redisTimeouts are short: a hop must answer within the carrier's budget
// even when Redis is slow, by falling back to rebuilding from the path.
func redisTimeouts() (dial, read, write time.Duration) {
	return 2 * time.Second, 500 * time.Millisecond, 500 * time.Millisecond
}

func unwrapAll(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// caseCategories are the categories a case deadline may be set for with
// BAREFOOT_CASE_DEADLINE_<CATEGORY>: the needs' categories and the visits'
// situations that open cases.
var caseCategories = []string{"registration", "school", "health", "medical", "allowance", "protection", "other", "urgent", "concern"}

// caseDeadlines reads BAREFOOT_CASE_DEADLINE and its per-category forms.
func caseDeadlines(get func(key, def string) string) (cases.Deadlines, error) {
	read := func(key, def string) (time.Duration, error) {
		v := get(key, def)
		if v == "" {
			return 0, nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			return 0, fmt.Errorf("%s: want a duration of a minute or more, such as 4h, got %q", key, v)
		}
		return d, nil
	}
	var out cases.Deadlines
	var err error
	if out.Default, err = read("BAREFOOT_CASE_DEADLINE", cases.DefaultDeadline.String()); err != nil {
		return out, err
	}
	for _, cat := range caseCategories {
		d, err := read("BAREFOOT_CASE_DEADLINE_"+strings.ToUpper(cat), "")
		if err != nil {
			return out, err
		}
		if d > 0 {
			if out.ByCategory == nil {
				out.ByCategory = map[string]time.Duration{}
			}
			out.ByCategory[cat] = d
		}
	}
	return out, nil
}
