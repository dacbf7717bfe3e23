package victim

// ResetPrivilegeCache forgets what engines granted, so a test can watch the first victim of a
// process find out again.
func ResetPrivilegeCache() {
	grants.mu.Lock()
	defer grants.mu.Unlock()
	clear(grants.byEngine)
}
