/// Finds where a duplicated key is, for Yams' `duplicatedKeysInMapping` error.
///
/// Yams refuses a mapping with a duplicated key before it returns any node, and its error
/// points at the first occurrence only. This reads the text around that point, the way block
/// YAML is indented, to find the second occurrence and the key path. It is best effort: for
/// flow mappings (`{a: 1, a: 2}`) or unusual layouts it gives up and the caller keeps Yams'
/// own position.
enum DuplicateKeyLocator {
    /// Where the second `key` is and the key path of the mapping both are in.
    struct Location: Equatable {
        var line: Int
        var column: Int
        var keyPath: ConfigKeyPath
    }

    /// - Parameters:
    ///   - key: The duplicated key.
    ///   - line: The line of the first occurrence, from 1.
    ///   - column: The column of the first occurrence, from 1.
    ///   - yaml: The whole text.
    static func locate(key: String, line: Int, column: Int, in yaml: String) -> Location? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map { $0.utf8.last == 13 ? $0.dropLast() : $0 }
        guard line >= 1, line <= lines.count, column >= 1 else { return nil }
        let indent = column - 1
        guard indentation(of: lines[line - 1]) == indent, keyOf(lines[line - 1]) == key else { return nil }

        var second: Int?
        for index in line..<lines.count where !isBlankOrComment(lines[index]) {
            let depth = indentation(of: lines[index])
            if depth < indent { break }
            if depth == indent, keyOf(lines[index]) == key {
                second = index + 1
                break
            }
        }
        guard let second else { return nil }

        var keys: [String] = [key]
        var depth = indent
        var index = line - 2
        while depth > 0, index >= 0 {
            let text = lines[index]
            index -= 1
            if isBlankOrComment(text) { continue }
            let lineDepth = indentation(of: text)
            guard lineDepth < depth else { continue }
            guard let parent = keyOf(text) else { return nil }  // a list item or a flow collection
            keys.insert(parent, at: 0)
            depth = lineDepth
        }
        guard depth == 0 else { return nil }
        return Location(line: second, column: column, keyPath: ConfigKeyPath(components: keys.map { .key($0) }))
    }

    private static func indentation(of line: Substring) -> Int {
        line.prefix { $0 == " " }.count
    }

    private static func isBlankOrComment(_ line: Substring) -> Bool {
        let content = line.drop { $0 == " " || $0 == "\t" }
        return content.isEmpty || content.first == "#"
    }

    /// The key of a `key: value` or `key:` line, unquoted; `nil` for anything else.
    private static func keyOf(_ line: Substring) -> String? {
        let content = line.drop { $0 == " " }
        if let quote = content.first, quote == "\"" || quote == "'" {
            let body = content.dropFirst()
            guard let end = body.firstIndex(of: quote), body[body.index(after: end)...].first == ":" else { return nil }
            return String(body[..<end])
        }
        guard content.first != "-", content.first != "{", content.first != "[" else { return nil }
        var search = content[...]
        while let colon = search.firstIndex(of: ":") {
            let after = content.index(after: colon)
            if after == content.endIndex || content[after] == " " || content[after] == "\t" {
                return String(content[..<colon]).trimmingTrailingSpaces()
            }
            search = content[after...]
        }
        return nil
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
