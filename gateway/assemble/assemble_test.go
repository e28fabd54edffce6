package assemble_test

import (
	"database/sql"
	"flag"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/assemble"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/barefoot-ussd/barefoot/sessions/sessionstest"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
	"github.com/prometheus/client_golang/prometheus"
)

// go test ./gateway/... -update records the carriers' outcomes anew
// (wiretest). This package records none, but takes the flag so that the
// one command runs over every package.
var _ = flag.Bool("update", false, "record nothing: this package has no recorded outcomes")

// Test credentials, not real ones; no error may quote them.
const (
	atKey       = "at-key-0123"
	twilioToken = "twilio-token-0123"
	kannelPass  = "kannel-pass-0123"
	tencentKey  = "tencent-key-0123"
	aliyunKey   = "aliyun-secret-0123"
	cmppSecret  = "cmpp-secret-0123"
	publicURL   = "https://gw.example.org"
)

// TestCarrierSettings builds the list of carriers the binary serves from
// each carrier's own settings: which are configured for sending, and
// which mistakes stop the gateway, naming the variable to fix.
func TestCarrierSettings(t *testing.T) {
	at := []string{"BAREFOOT_AT_USERNAME", "barefoot", "BAREFOOT_AT_API_KEY", atKey}
	twilio := []string{"BAREFOOT_TWILIO_ACCOUNT_SID", "AC1", "BAREFOOT_TWILIO_AUTH_TOKEN", twilioToken, "BAREFOOT_TWILIO_FROM", "+14155550100"}
	kannel := []string{"BAREFOOT_KANNEL_URL", "http://127.0.0.1:13013", "BAREFOOT_KANNEL_USERNAME", "barefoot", "BAREFOOT_KANNEL_PASSWORD", kannelPass}
	tencent := []string{"BAREFOOT_TENCENT_SECRET_ID", "AKID1", "BAREFOOT_TENCENT_SECRET_KEY", tencentKey,
		"BAREFOOT_TENCENT_SDK_APP_ID", "1400000001", "BAREFOOT_TENCENT_SIGN_NAME", "赤脚儿童"}
	aliyun := []string{"BAREFOOT_ALIYUN_ACCESS_KEY_ID", "LTAI0123", "BAREFOOT_ALIYUN_ACCESS_KEY_SECRET", aliyunKey, "BAREFOOT_ALIYUN_SIGN_NAME", "儿童关爱"}
	cmpp := []string{"BAREFOOT_CMPP_ADDR", "127.0.0.1:7890", "BAREFOOT_CMPP_SP_ID", "901234", "BAREFOOT_CMPP_SECRET", cmppSecret,
		"BAREFOOT_CMPP_SERVICE_ID", "BFT", "BAREFOOT_CMPP_SRC_ID", "1069000188"}
	without := func(kv []string, key string) []string {
		i := slices.Index(kv, key)
		return slices.Delete(slices.Clone(kv), i, i+2)
	}
	tests := []struct {
		name      string
		env       []string
		publicURL string
		senders   []string // carriers configured for sending, in list order
		wantErr   string   // the variable the error names first; "" for none
	}{
		{name: "nothing configured", senders: nil},
		{name: "every SMS carrier", env: slices.Concat(at, twilio, kannel, tencent), publicURL: publicURL, senders: []string{"at", "twilio", "kannel", "tencent"}},
		{name: "AT on its own", env: at, senders: []string{"at"}},
		{name: "AT settings padded with spaces", env: []string{"BAREFOOT_AT_USERNAME", " barefoot ", "BAREFOOT_AT_API_KEY", " " + atKey}, senders: []string{"at"}},
		{name: "AT without its key", env: without(at, "BAREFOOT_AT_API_KEY"), wantErr: "BAREFOOT_AT_API_KEY"},
		{name: "an AT key alone sends nothing", env: without(at, "BAREFOOT_AT_USERNAME")},
		{name: "Twilio", env: twilio, publicURL: publicURL, senders: []string{"twilio"}},
		{name: "a Twilio token without the public URL", env: twilio, wantErr: "BAREFOOT_PUBLIC_URL"},
		{name: "a Twilio token alone checks signatures, sends nothing", env: []string{"BAREFOOT_TWILIO_AUTH_TOKEN", twilioToken}, publicURL: publicURL},
		{name: "Twilio without its number", env: without(twilio, "BAREFOOT_TWILIO_FROM"), publicURL: publicURL, wantErr: "BAREFOOT_TWILIO_FROM"},
		{name: "Twilio without its token", env: without(twilio, "BAREFOOT_TWILIO_AUTH_TOKEN"), publicURL: publicURL, wantErr: "BAREFOOT_TWILIO_AUTH_TOKEN"},
		{name: "Kannel", env: kannel, senders: []string{"kannel"}},
		{name: "Kannel without its password", env: without(kannel, "BAREFOOT_KANNEL_PASSWORD"), wantErr: "BAREFOOT_KANNEL_PASSWORD"},
		{name: "Kannel without its URL sends nothing", env: without(kannel, "BAREFOOT_KANNEL_URL")},
		{name: "Tencent", env: tencent, senders: []string{"tencent"}},
		{name: "Tencent without its key", env: without(tencent, "BAREFOOT_TENCENT_SECRET_KEY"), wantErr: "BAREFOOT_TENCENT_SECRET_KEY"},
		{name: "Tencent without its signature", env: without(tencent, "BAREFOOT_TENCENT_SIGN_NAME"), wantErr: "BAREFOOT_TENCENT_SIGN_NAME"},
		{name: "Tencent with a bad endpoint", env: append(slices.Clone(tencent), "BAREFOOT_TENCENT_ENDPOINT", "sms.tencentcloudapi.com"), wantErr: "BAREFOOT_TENCENT_SECRET_ID"},
		{name: "a Tencent key alone sends nothing", env: without(tencent, "BAREFOOT_TENCENT_SECRET_ID")},
		{name: "Tencent with a daily cap that is not a number", env: append(slices.Clone(tencent), "BAREFOOT_TENCENT_DAILY_CAP", "ten"), wantErr: "BAREFOOT_TENCENT_DAILY_CAP"},
		{name: "Tencent counting 65/62", env: append(slices.Clone(tencent), "BAREFOOT_TENCENT_UCS2_SEGMENTS", "65/62"), senders: []string{"tencent"}},
		{name: "Tencent with segments the wrong way round", env: append(slices.Clone(tencent), "BAREFOOT_TENCENT_UCS2_SEGMENTS", "62/65"), wantErr: "BAREFOOT_TENCENT_UCS2_SEGMENTS"},
		{name: "Alibaba Cloud with a negative daily cap", env: append(slices.Clone(aliyun), "BAREFOOT_ALIYUN_DAILY_CAP", "-1"), wantErr: "BAREFOOT_ALIYUN_DAILY_CAP"},
		{name: "Alibaba Cloud", env: aliyun, publicURL: publicURL, senders: []string{"aliyun"}},
		{name: "Alibaba Cloud without its secret", env: without(aliyun, "BAREFOOT_ALIYUN_ACCESS_KEY_SECRET"), wantErr: "BAREFOOT_ALIYUN_ACCESS_KEY_SECRET"},
		{name: "Alibaba Cloud without its signature", env: without(aliyun, "BAREFOOT_ALIYUN_SIGN_NAME"), wantErr: "BAREFOOT_ALIYUN_SIGN_NAME"},
		{name: "Alibaba Cloud with a bad endpoint", env: append(slices.Clone(aliyun), "BAREFOOT_ALIYUN_ENDPOINT", "dysmsapi.aliyuncs.com"), wantErr: "BAREFOOT_ALIYUN_ACCESS_KEY_ID"},
		{name: "an Alibaba Cloud secret alone sends nothing", env: without(aliyun, "BAREFOOT_ALIYUN_ACCESS_KEY_ID")},
		{name: "CMPP", env: cmpp, senders: []string{"cmpp"}},
		{name: "CMPP 2.0 with its own window and heartbeat", env: slices.Concat(cmpp, []string{"BAREFOOT_CMPP_VERSION", "2.0", "BAREFOOT_CMPP_WINDOW", "4", "BAREFOOT_CMPP_HEARTBEAT", "10"}), senders: []string{"cmpp"}},
		{name: "CMPP without its secret", env: without(cmpp, "BAREFOOT_CMPP_SECRET"), wantErr: "BAREFOOT_CMPP_SECRET"},
		{name: "CMPP with a short SP id", env: slices.Concat(without(cmpp, "BAREFOOT_CMPP_SP_ID"), []string{"BAREFOOT_CMPP_SP_ID", "9012"}), wantErr: "BAREFOOT_CMPP_SP_ID"},
		{name: "CMPP version 4", env: slices.Concat(cmpp, []string{"BAREFOOT_CMPP_VERSION", "4.0"}), wantErr: "BAREFOOT_CMPP_VERSION"},
		{name: "CMPP window of 0", env: slices.Concat(cmpp, []string{"BAREFOOT_CMPP_WINDOW", "0"}), wantErr: "BAREFOOT_CMPP_WINDOW"},
		{name: "CMPP settings without the address send nothing", env: without(cmpp, "BAREFOOT_CMPP_ADDR")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for i := 0; i+1 < len(tt.env); i += 2 {
				env[tt.env[i]] = tt.env[i+1]
			}
			carriers, err := assemble.BuildCarriers(gateway.CarrierEnv{Getenv: func(k string) string { return env[k] }, PublicURL: tt.publicURL})
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr+": ") {
					t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
				}
				for _, secret := range []string{atKey, twilioToken, kannelPass, tencentKey, aliyunKey, cmppSecret} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q quotes a secret", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var senders, names []string
			for _, c := range carriers {
				names = append(names, c.Name)
				if c.Sender != nil {
					senders = append(senders, c.Name)
				}
			}
			if !slices.Equal(senders, tt.senders) {
				t.Errorf("senders %v, want %v", senders, tt.senders)
			}
			if want := []string{"at", "hubtel", "generic", "twilio", "kannel", "tencent", "aliyun", "cmpp"}; !slices.Equal(names, want) {
				t.Errorf("carriers %v, want %v", names, want)
			}
		})
	}
}

// TestAlertCarrier: alerts go out through a carrier that carries SMS.
func TestAlertCarrier(t *testing.T) {
	db := storagetest.MustDB(t)
	rdb, prefix := sessionstest.MustRedis(t)
	log := slog.New(slog.DiscardHandler)
	for name, ok := range map[string]bool{"at": true, "twilio": true, "kannel": true, "tencent": true, "hubtel": false, "sms": false, "aliyun": false} {
		_, err := assemble.New(t.Context(), db, rdb, assemble.Settings{RedisPrefix: prefix, AlertCarrier: name}, log)
		switch {
		case ok && err != nil:
			t.Errorf("%s: %v", name, err)
		case !ok && (err == nil || err.Error() != `BAREFOOT_ALERT_CARRIER: want at, twilio, kannel or tencent, got "`+name+`"`):
			t.Errorf("%s: error %v", name, err)
		}
	}
	// Alibaba Cloud takes no SMS callback of the one-message kind, but
	// carries alerts once it can send them.
	env := map[string]string{"BAREFOOT_ALIYUN_ACCESS_KEY_ID": "LTAI0123", "BAREFOOT_ALIYUN_ACCESS_KEY_SECRET": aliyunKey, "BAREFOOT_ALIYUN_SIGN_NAME": "儿童关爱"}
	if _, err := assemble.New(t.Context(), db, rdb, assemble.Settings{RedisPrefix: prefix, AlertCarrier: "aliyun", Getenv: func(k string) string { return env[k] }}, log); err != nil {
		t.Errorf("aliyun configured for sending: %v", err)
	}
}

// TestCMPPCarrier: CMPP connects out, so it has no callbacks anyone could
// forge, and once configured it carries alerts like any SMS carrier.
func TestCMPPCarrier(t *testing.T) {
	env := map[string]string{"BAREFOOT_CMPP_ADDR": "127.0.0.1:7890", "BAREFOOT_CMPP_SP_ID": "901234", "BAREFOOT_CMPP_SECRET": cmppSecret,
		"BAREFOOT_CMPP_SERVICE_ID": "BFT", "BAREFOOT_CMPP_SRC_ID": "1069000188"}
	getenv := func(k string) string { return env[k] }
	cenv := gateway.CarrierEnv{Getenv: getenv}
	carriers, err := assemble.BuildCarriers(cenv)
	if err != nil {
		t.Fatal(err)
	}
	guards, err := assemble.Guards(cenv, carriers)
	if err != nil {
		t.Fatal(err)
	}
	if u := assemble.Unguarded(carriers, guards); slices.Contains(u, "cmpp") || !slices.Contains(u, "kannel") {
		t.Errorf("unguarded %v: want kannel's callbacks, never CMPP", u)
	}
	db := storagetest.MustDB(t)
	rdb, prefix := sessionstest.MustRedis(t)
	log := slog.New(slog.DiscardHandler)
	if _, err := assemble.New(t.Context(), db, rdb, assemble.Settings{RedisPrefix: prefix, AlertCarrier: "cmpp", Getenv: getenv}, log); err != nil {
		t.Errorf("alerts through a configured CMPP: %v", err)
	}
	if _, err := assemble.New(t.Context(), db, rdb, assemble.Settings{RedisPrefix: prefix, AlertCarrier: "cmpp"}, log); err == nil {
		t.Errorf("alerts through CMPP with no ISMG were accepted")
	}
}

// TestCallersWarmAtStart: a gateway reads the whole registry as it
// starts, and again when it changes, and says how many of its phones it
// holds and how many no carrier's number could ever match.
func TestCallersWarmAtStart(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	rdb, prefix := sessionstest.MustRedis(t)
	ds := []registry.Director{
		{Phone: "+8613800000001", Name: "Amy", Language: menus.LangEN, Village: "Shuiping", County: "Leishan"},
		{Phone: "+8613800000002", Name: "Bo", Language: menus.LangZH, Village: "Dagu", County: "Leishan"},
	}
	if _, _, err := db.ImportDirectors(t.Context(), access.System, ds, false); err != nil {
		t.Fatal(err)
	}
	g, err := assemble.New(t.Context(), db, rdb, assemble.Settings{RedisPrefix: prefix}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mustGauges(t, g.Metrics, 2, 0)

	// Stored by hand with the national prefix after the country code: the
	// parser drops it, so this number is never what a lookup asks for.
	other, err := sql.Open("postgres", db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	const q = `INSERT INTO directors (phone, name, language, village, county) VALUES ('+86013800000003', 'Cai', 'zh', 'Dagu', 'Leishan')`
	if _, err := other.ExecContext(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	mustGauges(t, g.Metrics, 3, 1)
}

// mustGauges waits until the registry gauges read phones and unnormalised.
func mustGauges(t *testing.T, reg *prometheus.Registry, phones, unnormalised float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := map[string]float64{}
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				got[f.GetName()] = m.GetGauge().GetValue()
			}
		}
		if got["barefoot_registry_phones"] == phones && got["barefoot_registry_phones_unnormalised"] == unnormalised {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry gauges %v, want %v phones, %v unnormalised", got, phones, unnormalised)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
