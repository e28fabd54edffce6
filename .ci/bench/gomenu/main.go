// Command gomenu is the floor of Barefoot's side-by-side benchmark
// (BENCHMARKS.md): the same five-hop walk as the gateway's director menu,
// in Fiber with go-redis, doing the Redis work the npm peer does per hop
// but in one pipeline, so each hop is one round trip. Nothing is saved,
// nothing is validated beyond the walk: it is what this design costs at
// the least, not a product.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"
)

const (
	mainMenu   = "CON Child welfare reports\n1. Record a home visit\n2. Report a need\n3. Language"
	askChild   = "CON Enter the child ID (e.g. C0001)"
	situations = "?\n1. Well\n2. Needs support\n3. Some concern\n4. Urgent concern"
	sessionTTL = 300 * time.Second
)

var (
	childCode = regexp.MustCompile(`^C\d{4}$`)
	situation = map[string]string{"1": "Well", "2": "Needs support", "3": "Some concern", "4": "Urgent concern"}
)

type menu struct{ rdb *redis.Client }

func (m menu) ussd(c *fiber.Ctx) error {
	key := "floor:" + c.FormValue("sessionId")
	var in []string
	if text := c.FormValue("text"); text != "" {
		in = strings.Split(text, "*")
	}
	ctx := c.UserContext()
	pipe := m.rdb.Pipeline()
	pipe.Expire(ctx, key, sessionTTL)
	var child, sit *redis.StringCmd
	screen := ""
	switch {
	case len(in) == 0 || in[0] != "1":
		screen = mainMenu
	case len(in) == 1 || !childCode.MatchString(in[1]):
		screen = askChild
	case len(in) == 2 || situation[in[2]] == "":
		pipe.HSet(ctx, key, "child", in[1])
		screen = "CON How is " + in[1] + situations
	case len(in) == 3 || (in[3] != "1" && in[3] != "2"):
		pipe.HSet(ctx, key, "situation", in[2])
		child = pipe.HGet(ctx, key, "child")
	case in[3] == "2":
		screen = mainMenu
	default:
		child = pipe.HGet(ctx, key, "child")
		sit = pipe.HGet(ctx, key, "situation")
		pipe.Del(ctx, key)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	switch {
	case sit != nil:
		screen = "END Visit recorded: " + child.Val() + ", " + situation[sit.Val()] + ". Thank you."
	case child != nil:
		screen = "CON Visit to " + child.Val() + ": " + situation[in[2]] + "\n1. Confirm\n2. Cancel"
	}
	return c.SendString(screen)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "listen address")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379/4", "Redis URL")
	flag.Parse()
	opt, err := redis.ParseURL(*redisURL)
	if err != nil {
		log.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		log.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/ussd", menu{rdb}.ussd)
	log.Printf("gomenu on %s", *addr)
	log.Fatal(app.Listen(*addr))
}
