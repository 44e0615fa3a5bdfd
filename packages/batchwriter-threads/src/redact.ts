// Credentials never leave the process in a message: every string that could hold the
// connection string passes through here first.

/** `mongodb://user:secret@host` becomes `mongodb://user:***@host`. */
export function redactUri(uri: string): string {
  return uri.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/gi, '$1:***@');
}

/** Removes the password of `uri` (and the URI's own redacted form) from any text. */
export function redactText(text: string, uri: string): string {
  let out = redactUri(text);
  const password = passwordOf(uri);
  if (password) {
    out = out.split(password).join('***');
    const encoded = encodeURIComponent(password);
    if (encoded !== password) out = out.split(encoded).join('***');
  }
  return out;
}

function passwordOf(uri: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:([^@\s]*)@/i.exec(uri);
  if (!m?.[1]) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}
