//! The plain sale ticket, for places without a fiscal receipt.

use super::{LayoutError, SaleTicket};
use crate::layout::{DocumentBuilder, PrintJob, PrinterProfile, TextStyle};
use crate::text::quantity;

/// Lays out a sale ticket.
pub fn layout_ticket(
    ticket: &SaleTicket,
    profile: &PrinterProfile,
) -> Result<PrintJob, LayoutError> {
    if ticket.items.is_empty() {
        return Err(LayoutError::InvalidField {
            field: "items",
            reason: "a sale ticket has at least one item".into(),
        });
    }
    let f = &ticket.money_format;
    let l = &ticket.labels;
    let mut b = DocumentBuilder::new(profile);
    b.text(&ticket.store_name, TextStyle::TITLE);
    for d in &ticket.store_details {
        b.text(d, TextStyle::CENTER);
    }
    b.rule();
    b.text(&ticket.title, TextStyle::BOLD_CENTER);
    b.pair(&l.sale, &ticket.sale_reference, TextStyle::NORMAL);
    b.pair(&l.date, &ticket.issued_at, TextStyle::NORMAL);
    if let Some(s) = &ticket.seller {
        b.pair(&l.seller, s, TextStyle::NORMAL);
    }
    if let Some(c) = &ticket.customer {
        b.pair(&l.customer, c, TextStyle::NORMAL);
    }
    b.rule();
    for item in &ticket.items {
        b.text(&item.description, TextStyle::NORMAL);
        let qty = format!(
            "  {} {} x {}",
            quantity(item.quantity_thousandths, f.decimal_separator),
            item.unit,
            f.amount(item.unit_price)
        );
        b.pair(&qty, &f.amount(item.total), TextStyle::NORMAL);
        if !item.discount.is_zero() {
            b.pair(
                &format!("  {}", l.discount),
                &format!("-{}", f.amount(item.discount)),
                TextStyle::NORMAL,
            );
        }
    }
    b.rule();
    b.pair(
        &l.subtotal,
        &f.amount(ticket.totals.items_total),
        TextStyle::NORMAL,
    );
    if !ticket.totals.discount.is_zero() {
        b.pair(
            &l.discount,
            &format!("-{}", f.amount(ticket.totals.discount)),
            TextStyle::NORMAL,
        );
    }
    if !ticket.totals.surcharge.is_zero() {
        b.pair(
            &l.surcharge,
            &f.amount(ticket.totals.surcharge),
            TextStyle::NORMAL,
        );
    }
    b.pair(
        &l.total,
        &f.with_symbol(ticket.totals.amount_due),
        TextStyle::BOLD,
    );
    for p in &ticket.payments {
        b.pair(&p.method, &f.amount(p.amount), TextStyle::NORMAL);
    }
    if !ticket.change.is_zero() {
        b.pair(&l.change, &f.amount(ticket.change), TextStyle::NORMAL);
    }
    if !ticket.footer.is_empty() {
        b.rule();
        for line in &ticket.footer {
            b.text(line, TextStyle::CENTER);
        }
    }
    b.feed(2).cut();
    Ok(PrintJob {
        copies: vec![b.finish()],
        open_drawer: ticket.open_drawer,
    })
}
