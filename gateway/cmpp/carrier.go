// Package cmpp connects the gateway to China Mobile's SMS gateway (ISMG)
// over CMPP 3.0 or 2.0, the binary protocol an SP speaks on one long-lived
// TCP connection: SUBMIT sends a message, DELIVER brings one from a phone
// or a status report of one sent, ACTIVE_TEST keeps the line alive.
// Unlike the HTTP carriers it has no callbacks: Run holds the connection
// and hands every inbound message to the gateway.
//
// New reads the carrier's settings:
//
//	BAREFOOT_CMPP_ADDR        host:port of the ISMG; the carrier is on
//	                          once it is set
//	BAREFOOT_CMPP_SP_ID       the SP id (Source_Addr), six characters
//	BAREFOOT_CMPP_SECRET      the shared secret of the login; never logged
//	BAREFOOT_CMPP_SERVICE_ID  the Service_Id messages are sent under
//	BAREFOOT_CMPP_SRC_ID      the 106... number (with any extension)
//	                          messages come from and replies go to
//	BAREFOOT_CMPP_VERSION     3.0 (default) or 2.0
//	BAREFOOT_CMPP_WINDOW      SUBMITs awaiting their response, 16 by default
//	BAREFOOT_CMPP_HEARTBEAT   idle time before an ACTIVE_TEST, 30s by default
//	BAREFOOT_CMPP_RECONNECT   first pause before reconnecting, 1s by
//	                          default, doubling to a minute
//
// Of several gateway processes on one database, one holds the connection
// (a Postgres advisory lock); the others wait to take over.
//
// The codec is this package's own. No maintained Go CMPP library is served
// by the module proxy this project builds from; bigwhite/gocmpp, the best
// known, was read for field layouts, and the tests check the packets
// against the specification's widths and a worked authenticator.
package cmpp

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway"
)

// CarrierName is CMPP's short name in stored messages, the key of its send
// client in sender.Sender.Carriers.
const CarrierName = "cmpp"

// New returns CMPP as the gateway serves it: once BAREFOOT_CMPP_ADDR is
// set, a send client and the connection Run keeps. Errors name the
// variable to fix and never quote a value.
func New(env gateway.CarrierEnv) (gateway.Carrier, error) {
	c := gateway.Carrier{Name: CarrierName}
	cfg, err := ReadConfig(env)
	if err != nil || cfg.Addr == "" {
		return c, err
	}
	cfg.Locker, cfg.Deliveries, cfg.Log = env.Locker, env.Deliveries, env.Log
	client := NewClient(cfg)
	c.Sender, c.Run = client, client.Run
	c.Notes = append(c.Notes, "BAREFOOT_CMPP_ADDR: of several gateway processes one holds the CMPP connection; a CMPP message another process claims is put back for a couple of seconds, no attempt counted, until the holder sends it")
	return c, nil
}

// ReadConfig reads the BAREFOOT_CMPP_* settings; a Config with no Addr when
// BAREFOOT_CMPP_ADDR is not set.
func ReadConfig(env gateway.CarrierEnv) (Config, error) {
	cfg := Config{
		Addr: env.Setting("BAREFOOT_CMPP_ADDR", ""), SPID: env.Setting("BAREFOOT_CMPP_SP_ID", ""), Secret: env.Setting("BAREFOOT_CMPP_SECRET", ""),
		ServiceID: env.Setting("BAREFOOT_CMPP_SERVICE_ID", ""), SrcID: env.Setting("BAREFOOT_CMPP_SRC_ID", ""),
	}
	if cfg.Addr == "" {
		return Config{}, nil
	}
	for _, r := range []struct{ key, value string }{
		{"BAREFOOT_CMPP_SP_ID", cfg.SPID}, {"BAREFOOT_CMPP_SECRET", cfg.Secret}, {"BAREFOOT_CMPP_SERVICE_ID", cfg.ServiceID}, {"BAREFOOT_CMPP_SRC_ID", cfg.SrcID},
	} {
		if r.value == "" {
			return Config{}, fmt.Errorf("%s: required with BAREFOOT_CMPP_ADDR", r.key)
		}
	}
	if !strings.Contains(cfg.Addr, ":") {
		return Config{}, fmt.Errorf("BAREFOOT_CMPP_ADDR: want host:port")
	}
	if len(cfg.SPID) != 6 {
		return Config{}, fmt.Errorf("BAREFOOT_CMPP_SP_ID: want the six-character SP id, got %d characters", len(cfg.SPID))
	}
	if len(cfg.ServiceID) > 10 {
		return Config{}, fmt.Errorf("BAREFOOT_CMPP_SERVICE_ID: at most 10 characters")
	}
	if len(cfg.SrcID) > 21 {
		return Config{}, fmt.Errorf("BAREFOOT_CMPP_SRC_ID: at most 21 characters")
	}
	switch v := env.Setting("BAREFOOT_CMPP_VERSION", "3.0"); v {
	case "3.0", "3", "30":
		cfg.Version = V30
	case "2.0", "2", "20":
		cfg.Version = V20
	default:
		return Config{}, fmt.Errorf("BAREFOOT_CMPP_VERSION: want 3.0 or 2.0, got %q", v)
	}
	window, err := strconv.Atoi(env.Setting("BAREFOOT_CMPP_WINDOW", strconv.Itoa(DefaultWindow)))
	if err != nil || window < 1 || window > 1024 {
		return Config{}, fmt.Errorf("BAREFOOT_CMPP_WINDOW: want a number from 1 to 1024")
	}
	cfg.Window = window
	if cfg.Heartbeat, err = duration(env, "BAREFOOT_CMPP_HEARTBEAT", DefaultHeartbeat); err != nil {
		return Config{}, err
	}
	if cfg.Retry, err = duration(env, "BAREFOOT_CMPP_RECONNECT", DefaultRetry); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// duration reads a positive duration, "30s" or plain seconds "30".
func duration(env gateway.CarrierEnv, key string, def time.Duration) (time.Duration, error) {
	v := env.Setting(key, "")
	if v == "" {
		return def, nil
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: want a duration such as 30s, got %q", key, v)
	}
	return d, nil
}
