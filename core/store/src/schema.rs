//! Table definitions (kept by hand beside `migrations/`; the migration tests check they agree).

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    products (id) {
        seq -> BigInt,
        id -> Binary,
        sku -> Text,
        gtin -> Nullable<Text>,
        gtin_kind -> Nullable<Text>,
        name -> Text,
        unit -> Text,
        price -> BigInt,
        fiscal -> Text,
        active -> Bool,
        version -> BigInt,
    }
}

diesel::table! {
    customers (id) {
        id -> Binary,
        name -> Text,
        tax_id -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        server_balance -> BigInt,
        balance -> BigInt,
        overdraft_limit -> BigInt,
        active -> Bool,
        version -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> Binary,
        name -> Text,
        login -> Text,
        role -> Text,
        credential_hash -> Text,
        active -> Bool,
        version -> BigInt,
    }
}

diesel::table! {
    stock_levels (product_id) {
        product_id -> Binary,
        server_quantity -> BigInt,
        updated_at -> Text,
    }
}

diesel::table! {
    sales (id) {
        id -> Binary,
        local_number -> BigInt,
        device_id -> Binary,
        seller_id -> Binary,
        customer_id -> Nullable<Binary>,
        consumer_tax_id -> Nullable<Text>,
        register_session_id -> Nullable<Binary>,
        created_at -> Text,
        gross -> BigInt,
        discount -> BigInt,
        total -> BigInt,
        change -> BigInt,
        status -> Text,
        folio -> Nullable<BigInt>,
        body -> Binary,
        /// Its fiscal document's row key (`fiscal::document_key`), if it has one.
        fiscal_key -> Nullable<BigInt>,
        /// The audit entry recording the sale (`audit::sale_link`), kept in its row.
        audit_seq -> Nullable<BigInt>,
        audit_actor -> Nullable<Text>,
        audit_prev_hash -> Nullable<Binary>,
        audit_hash -> Nullable<Binary>,
    }
}

diesel::table! {
    balance_deltas (id) {
        id -> BigInt,
        customer_id -> Binary,
        delta -> BigInt,
        reason -> Text,
        sale_id -> Nullable<Binary>,
        outbox_seq -> BigInt,
        at -> Text,
    }
}

diesel::table! {
    outbox (seq) {
        seq -> BigInt,
        kind -> Text,
        payload -> Binary,
        packed -> Bool,
        created_at -> Text,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        actor -> Text,
        action -> Text,
        subject -> Text,
        outcome -> Text,
        at -> Text,
        prev_hash -> Binary,
        hash -> Binary,
    }
}

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    /// Keyed by model, series and number in one integer (`fiscal::document_key`).
    fiscal_documents (doc_key) {
        doc_key -> BigInt,
        sale_id -> Binary,
        model -> Integer,
        series -> Integer,
        number -> Integer,
        access_key -> Text,
        tp_emis -> Integer,
        status -> Text,
        /// The signed XML, packed (`packed::pack_text`), or plain text when written before.
        xml -> Binary,
        protocol -> Nullable<Text>,
        rejection_code -> Nullable<Text>,
        rejection_reason -> Nullable<Text>,
        issued_at -> Text,
        deadline -> Nullable<Text>,
        updated_at -> Text,
        consult_first -> Bool,
    }
}

diesel::table! {
    fiscal_numbers (model, series, number) {
        model -> Integer,
        series -> Integer,
        number -> Integer,
        state -> Text,
        reserved_at -> Text,
        protocol -> Nullable<Text>,
    }
}

diesel::table! {
    cash_movements (id) {
        id -> BigInt,
        session_id -> Binary,
        kind -> Text,
        amount -> BigInt,
        actor -> Text,
        note -> Nullable<Text>,
        at -> Text,
        outbox_seq -> BigInt,
        sales_after -> Nullable<BigInt>,
    }
}

diesel::table! {
    secrets (name) {
        name -> Text,
        value -> Binary,
        updated_at -> Text,
    }
}

diesel::table! {
    fiscal_events (seq) {
        seq -> BigInt,
        kind -> Text,
        sale_id -> Nullable<Text>,
        access_key -> Nullable<Text>,
        first_number -> Nullable<BigInt>,
        last_number -> Nullable<BigInt>,
        status_code -> Integer,
        protocol -> Nullable<Text>,
        registered_at -> Text,
        justification -> Text,
        xml -> Text,
    }
}

diesel::table! {
    superseded_notes (sale_id) {
        sale_id -> Text,
        access_key -> Text,
        signed_xml -> Text,
    }
}

diesel::table! {
    register_closings (session_id, kind) {
        session_id -> Text,
        kind -> Text,
        expected -> BigInt,
        counted -> BigInt,
    }
}

diesel::table! {
    card_captures (seq) {
        seq -> BigInt,
        payment_id -> Text,
        sale_reference -> Text,
        captured_at -> Text,
        record -> Text,
    }
}

diesel::table! {
    card_payments_to_recover (seq) {
        seq -> BigInt,
        payment_id -> Text,
        sale_id -> Text,
        amount -> BigInt,
        brand -> Text,
        last4 -> Text,
        captured_at -> Text,
        declined_at -> Text,
        reason -> Text,
    }
}
