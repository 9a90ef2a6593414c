package main

// refuseOffline refuses, under --offline, a command that cannot work
// without the network, before it builds a client or makes any request.
// local says the command needs none with --oci-layout (push, tags).
func (g *globalOptions) refuseOffline(command string, local bool) error {
	if !g.cache.offline || local && g.ociLayout {
		return nil
	}
	return usagef("%s needs the network, and --offline allows none: only ls, cat, cp and pull work offline, from the cache", command)
}
