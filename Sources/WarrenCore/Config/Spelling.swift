/// The candidate closest to `word` when it is close enough to be a likely typo: `prefech` gives
/// `prefetch`, `time-limit` gives `time_limit`, `warn` gives `warning`, `colour` gives nothing.
func closestSpelling(to word: String, among candidates: [String]) -> String? {
    let normalized = String(word.lowercased().map { $0 == "-" ? "_" : $0 })
    let allowed = normalized.count <= 3 ? 1 : max(2, normalized.count / 3)
    if normalized.count >= 3, let extended = candidates.first(where: { $0.lowercased().hasPrefix(normalized) }) {
        return extended  // `warn` for `warning`
    }
    var best: (candidate: String, distance: Int)?
    for candidate in candidates {
        let distance = editDistance(normalized, candidate.lowercased())
        if distance <= allowed, distance < (best?.distance ?? .max) {
            best = (candidate, distance)
        }
    }
    return best?.candidate
}

/// The Levenshtein distance: how many characters to insert, delete or replace to turn `a` into `b`.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    var current = previous
    for i in 1...a.count {
        current[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
