package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// questions returns n distinct questions of the kinds people ask: keywords, sentences,
// comparisons, typos, Slack markup, shouting, and some that are off-topic. No two are the
// same, so an answer cache could not make the numbers.
func questions(n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	topics := []string{
		"api", "apis", "integration", "integrations", "scalability", "performance", "complexity",
		"functionality", "flexibility", "middleware", "point-to-point integration", "composite api",
		"partner apis", "open apis", "internal apis", "payment processing", "social media logins",
		"data retrieval", "marketing automation", "e-commerce", "crm", "bottlenecks", "latency",
		"throughput", "choosing an approach", "webhooks", "rest", "graphql", "sdk", "connectors",
	}
	offTopic := []string{
		"the weather in paris", "banana bread", "the world cup", "kubernetes upgrades", "my password",
		"lunch options", "the office wifi", "expense reports", "a good pizza place", "mount everest",
	}
	templates := []string{
		"%s", "what is %s?", "tell me about %s", "how does %s work", "explain %s please",
		"%s vs %s", "is %s better than %s?", "which is faster, %s or %s?", "<@U0BOT> %s",
		"<@U0BOT> what about %s and %s?", "%s!!!", "WHAT IS %s???", "when should I use %s",
		"does %s scale better than %s", "how hard is %s", "help me choose between %s and %s",
	}
	typo := func(s string) string {
		if len(s) < 5 {
			return s
		}
		i := 1 + rng.IntN(len(s)-2)
		return s[:i] + s[i+1:] // a dropped letter
	}
	seen := make(map[string]bool, n)
	var out []string
	for len(out) < n {
		pick := func() string {
			if rng.IntN(10) == 0 {
				return offTopic[rng.IntN(len(offTopic))]
			}
			t := topics[rng.IntN(len(topics))]
			if rng.IntN(8) == 0 {
				t = typo(t)
			}
			return t
		}
		tpl := templates[rng.IntN(len(templates))]
		var q string
		if strings.Count(tpl, "%s") == 2 {
			q = fmt.Sprintf(tpl, pick(), pick())
		} else {
			q = fmt.Sprintf(tpl, pick())
		}
		if strings.HasPrefix(tpl, "WHAT") {
			q = strings.ToUpper(q)
		}
		if seen[q] {
			// Distinct all the same: what a person adds to a question they asked before.
			q = fmt.Sprintf("%s (asking again, take %d)", q, len(out))
		}
		seen[q] = true
		out = append(out, q)
	}
	return out
}
