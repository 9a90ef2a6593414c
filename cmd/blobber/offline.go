package main

// refuseOffline refuses, under --offline, a command that cannot work
// without the network, before it builds a client or makes any request.
func (g *globalOptions) refuseOffline(command string) error {
	if !g.cache.offline {
		return nil
	}
	return usagef("%s needs the network, and --offline allows none: only ls, cat, cp and pull work offline, from the cache", command)
}
