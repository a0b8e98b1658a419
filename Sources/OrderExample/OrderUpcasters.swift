// How old ItemAdded payloads become the current shape on read. Stored events
// are never rewritten; each step knows only the shape one version older than
// its own, so it never changes when a later version arrives.
import EventSourcing

/// ItemAdded as first written (schema 1): the price in currency units, as a Double.
public struct ItemAddedV1: Codable, Sendable {
    /// The stock-keeping unit.
    public var sku: String
    /// How many.
    public var quantity: Int
    /// The price of one, in euros.
    public var price: Double

    /// A schema-1 payload, as an older client writes it.
    public init(sku: String, quantity: Int, price: Double) {
        self.sku = sku
        self.quantity = quantity
        self.price = price
    }
}

/// ItemAdded schema 2: the price in cents, no currency yet (it was always euros).
public struct ItemAddedV2: Codable, Sendable {
    /// The stock-keeping unit.
    public var sku: String
    /// How many.
    public var quantity: Int
    /// The price of one, in euro cents.
    public var unitPriceCents: Int

    /// A schema-2 payload.
    public init(sku: String, quantity: Int, unitPriceCents: Int) {
        self.sku = sku
        self.quantity = quantity
        self.unitPriceCents = unitPriceCents
    }
}

/// The upcasters of the order domain, registered in ``OrderDomain/registry``.
public enum OrderUpcasters {
    /// Schema 1 → 2: euros as a Double become whole cents.
    public static let itemAddedV1ToV2 = Upcaster.converting(
        ItemAdded.eventType, fromSchemaVersion: 1, ItemAddedV1.self, to: ItemAddedV2.self
    ) { old in
        ItemAddedV2(sku: old.sku, quantity: old.quantity, unitPriceCents: Int((old.price * 100).rounded()))
    }

    /// Schema 2 → 3: the currency, which was always euros.
    public static let itemAddedV2ToV3 = Upcaster.converting(
        ItemAdded.eventType, fromSchemaVersion: 2, ItemAddedV2.self, to: ItemAdded.self
    ) { old in
        ItemAdded(sku: old.sku, quantity: old.quantity, unitPriceCents: old.unitPriceCents, currency: "EUR")
    }

    /// Every step, in any order (the chain runs them by version).
    public static let all = [itemAddedV1ToV2, itemAddedV2ToV3]
}
