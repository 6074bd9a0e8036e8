// Package atomicfile writes files so that a reader sees either the old
// content or all of the new, never part of it, and so that nothing is
// replaced that the caller was not told to replace. Every file simrun
// writes (traces from hunt, check and import, HTML reports) goes through
// Write or Output.
//
// The rules, the same for every command:
//
//   - a path that does not exist is created (mode 0644);
//   - an existing regular file is replaced only with overwrite (simrun's
//     --force), keeping its permission bits; without it Write returns an
//     *ExistsError and the file is untouched;
//   - an existing symbolic link counts as an existing file: refused
//     without overwrite; with overwrite the regular file it resolves to is
//     replaced and the link is kept. A link to anything else, or to
//     nothing, is refused;
//   - anything that is not a regular file (a directory, a device such as
//     /dev/null, a named pipe, a socket) is never replaced, even with
//     overwrite: *NotRegularError;
//   - Output treats the path "-" as standard output.
//
// Check and CheckDir answer, before a long computation, whether the write
// at its end can succeed, so that a command can refuse before doing the
// work rather than throw the work away.
package atomicfile
