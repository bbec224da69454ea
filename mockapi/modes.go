package mockapi

// start returns where a page starts in a listing of total records:
// offset start, or the start of the last page when Config.ClampPages is
// set and start is past the last record.
func (s *Server) start(start, size, total int) int {
	if s.cfg.ClampPages && start >= total && total > 0 {
		return (total - 1) / size * size
	}
	return start
}

// pageStart returns the offset of page (1-based) of the given size in a
// listing of total records, clamped as start says.
func (s *Server) pageStart(page, size, total int) int {
	return s.start(pageOffset(page, size, total), size, total)
}
