package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

func init() {
	register(command{
		name:    "version",
		summary: "print the build's version",
		run: func(ctx context.Context, m *Main, args []string) error {
			fs := m.FlagSet("version", "")
			if err := Parse(fs, args); err != nil {
				return err
			}
			v := "(devel)"
			if bi, ok := debug.ReadBuildInfo(); ok {
				v = bi.Main.Version
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						v += " " + s.Value
					}
				}
			}
			fmt.Fprintf(m.Stdout, "concord %s\n", v)
			return nil
		},
	})
}
