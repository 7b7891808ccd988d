-- The schema webview-toolkit 0.1.0 created (metadata.create_all), before it was versioned (sqlite).

CREATE TABLE order_events (
	id INTEGER NOT NULL, 
	ord_no VARCHAR(40) NOT NULL, 
	at DATETIME NOT NULL, 
	kind VARCHAR(40) NOT NULL, 
	detail TEXT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_order_events_ord_no ON order_events (ord_no);

CREATE TABLE orders (
	ord_no VARCHAR(40) NOT NULL, 
	status VARCHAR(24) NOT NULL, 
	goods_nm VARCHAR(200) NOT NULL, 
	goods_amt BIGINT NOT NULL, 
	ord_nm VARCHAR(60) NOT NULL, 
	ord_tel VARCHAR(20) NOT NULL, 
	ord_email VARCHAR(120), 
	pay_method VARCHAR(10), 
	mbs_usr_id VARCHAR(40), 
	user_ip VARCHAR(40), 
	tid VARCHAR(30), 
	result_cd VARCHAR(8), 
	result_msg VARCHAR(200), 
	pay_method_result VARCHAR(10), 
	app_no VARCHAR(20), 
	app_dtm VARCHAR(14), 
	card_code VARCHAR(4), 
	fn_nm VARCHAR(40), 
	easy_pay_cd VARCHAR(4), 
	cancelled_amt BIGINT NOT NULL, 
	status_before_cancel VARCHAR(24), 
	pending_cancel_amt BIGINT, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (ord_no)
);

CREATE INDEX ix_orders_status ON orders (status);
