// The live status page served at `/`: a placeholder until the real page lands.
export const STATUS_PAGE_HTML = '<!doctype html><title>kafka-to-elastic</title><p>See <a href="/status">/status</a>.</p>';
