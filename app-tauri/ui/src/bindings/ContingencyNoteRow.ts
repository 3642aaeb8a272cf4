// TEMPORARY hand copy until the generated bindings replace it.

export type ContingencyNoteRow = { number: number, series: number, access_key: string, emitted_at: string, deadline: string, transmitted_at: string | null, authorized_at: string | null, protocol: string | null, status_code: number | null, status: string, };
