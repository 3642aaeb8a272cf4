// Mirrors migrations/ (portable SQL); one schema serves both backends.
diesel::table! {
    stores (id) {
        id -> Text,
        name -> Text,
        next_folio -> BigInt,
        change_seq -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    branches (id) {
        id -> Text,
        store_id -> Text,
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        store_id -> Text,
        name -> Text,
        login -> Text,
        role -> Text,
        credential_hash -> Text,
        active -> Bool,
        version -> BigInt,
    }
}

diesel::table! {
    api_tokens (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    enrollment_codes (code_hash) {
        code_hash -> Text,
        store_id -> Text,
        branch_id -> Text,
        nfce_series -> BigInt,
        created_by -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        device_id -> Nullable<Text>,
    }
}

diesel::table! {
    devices (id) {
        id -> Text,
        store_id -> Text,
        branch_id -> Text,
        name -> Text,
        credential_hash -> Text,
        nfce_series -> BigInt,
        last_seq -> BigInt,
        revoked -> Bool,
        enrolled_at -> BigInt,
        last_seen_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    applied_mutations (device_id,seq) {
        device_id -> Text,
        seq -> BigInt,
        kind -> Text,
        applied_at -> BigInt,
    }
}

diesel::table! {
    products (id) {
        id -> Text,
        store_id -> Text,
        sku -> Text,
        gtin -> Nullable<Text>,
        name -> Text,
        unit -> Text,
        price_cents -> BigInt,
        fiscal -> Text,
        active -> Bool,
        version -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    branch_prices (branch_id,product_id) {
        branch_id -> Text,
        product_id -> Text,
        price_cents -> BigInt,
    }
}

diesel::table! {
    customers (id) {
        id -> Text,
        store_id -> Text,
        name -> Text,
        tax_id -> Nullable<Text>,
        phone -> Nullable<Text>,
        overdraft_limit_cents -> BigInt,
        active -> Bool,
        version -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    customer_balances (customer_id) {
        customer_id -> Text,
        store_id -> Text,
        balance_cents -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    balance_deltas (id) {
        id -> Text,
        store_id -> Text,
        branch_id -> Text,
        customer_id -> Text,
        delta_cents -> BigInt,
        sale_id -> Nullable<Text>,
        reason -> Text,
        version -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    stock_levels (branch_id,product_id) {
        branch_id -> Text,
        product_id -> Text,
        store_id -> Text,
        quantity -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    stock_deltas (id) {
        id -> Text,
        store_id -> Text,
        branch_id -> Text,
        product_id -> Text,
        delta -> BigInt,
        sale_id -> Nullable<Text>,
        reason -> Text,
        version -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    sales (id) {
        id -> Text,
        store_id -> Text,
        branch_id -> Text,
        device_id -> Text,
        device_seq -> BigInt,
        folio -> BigInt,
        local_number -> Nullable<Text>,
        customer_id -> Nullable<Text>,
        total_cents -> BigInt,
        on_account_cents -> BigInt,
        fiscal_status -> Text,
        access_key -> Nullable<Text>,
        recorded_at -> BigInt,
        received_at -> BigInt,
        voided_at -> Nullable<BigInt>,
        payload -> Text,
    }
}

diesel::table! {
    sale_lines (sale_id,line_no) {
        sale_id -> Text,
        line_no -> BigInt,
        product_id -> Text,
        quantity -> BigInt,
        unit_price_cents -> BigInt,
        total_cents -> BigInt,
    }
}

diesel::table! {
    cash_movements (id) {
        id -> Text,
        store_id -> Text,
        branch_id -> Text,
        device_id -> Text,
        kind -> Text,
        amount_cents -> BigInt,
        payload -> Text,
        received_at -> BigInt,
    }
}

diesel::table! {
    device_records (device_id, device_seq) {
        device_id -> Text,
        device_seq -> BigInt,
        store_id -> Text,
        kind -> Text,
        payload -> Text,
        received_at -> BigInt,
    }
}

diesel::table! {
    flags (id) {
        id -> Text,
        store_id -> Text,
        branch_id -> Text,
        kind -> Text,
        subject_id -> Text,
        sale_id -> Text,
        amount_after -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    settings (store_id,key) {
        store_id -> Text,
        key -> Text,
        value -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        store_id -> Text,
        actor -> Text,
        action -> Text,
        subject -> Text,
        outcome -> Text,
        at -> BigInt,
    }
}

diesel::table! {
    hub_endpoints (device_id) {
        device_id -> Text,
        store_id -> Text,
        branch_id -> Text,
        url -> Text,
        fingerprint -> Nullable<Text>,
        enrolled_at -> BigInt,
    }
}

diesel::table! {
    hub_link (id) {
        id -> BigInt,
        upstream_url -> Text,
        upstream_fingerprint -> Nullable<Text>,
        device_id -> Text,
        credential -> Text,
        store_id -> Text,
        branch_id -> Text,
        cloud_cursor -> Nullable<Text>,
        last_contact_at -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        revoked -> Bool,
    }
}

diesel::table! {
    hub_relay_queue (device_id, seq) {
        device_id -> Text,
        seq -> BigInt,
        kind -> Text,
        payload -> Text,
        queued_at -> BigInt,
    }
}

diesel::table! {
    hub_pending_deltas (device_id, seq, subject_kind, subject_id) {
        device_id -> Text,
        seq -> BigInt,
        subject_kind -> Text,
        subject_id -> Text,
        amount -> BigInt,
    }
}

diesel::table! {
    hub_cloud_levels (subject_kind, subject_id) {
        subject_kind -> Text,
        subject_id -> Text,
        amount -> BigInt,
    }
}

diesel::table! {
    hub_sale_folios (sale_id) {
        sale_id -> Text,
        device_id -> Text,
        folio -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    hub_device_progress (device_id) {
        device_id -> Text,
        cloud_last_seq -> BigInt,
    }
}

diesel::table! {
    login_throttle (scope) {
        scope -> Text,
        failures -> BigInt,
        locked_until -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    stores,
    branches,
    users,
    api_tokens,
    enrollment_codes,
    devices,
    applied_mutations,
    products,
    branch_prices,
    customers,
    customer_balances,
    balance_deltas,
    stock_levels,
    stock_deltas,
    sales,
    sale_lines,
    cash_movements,
    device_records,
    flags,
    settings,
    audit_log,
    hub_endpoints,
    hub_link,
    hub_relay_queue,
    hub_pending_deltas,
    hub_cloud_levels,
    hub_sale_folios,
    hub_device_progress,
    login_throttle,
);
